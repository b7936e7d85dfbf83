"""The device database: Rice-coded 32-bit hash prefixes an app matches on the phone.

:mod:`scameter.device.rice` codes sorted lists, :mod:`scameter.device.dbfile` is the file
format (full databases and deltas), :mod:`scameter.device.export` builds one from a snapshot,
and :mod:`scameter.device.matcher` is the reference matcher an app's code can be checked
against. Format: docs/privacy.md, "Device database".
"""

from scameter.device.dbfile import DeviceFile, DeviceList, apply_delta, decode, encode_delta
from scameter.device.matcher import DeviceDatabase

__all__ = ["DeviceDatabase", "DeviceFile", "DeviceList", "apply_delta", "decode", "encode_delta"]
