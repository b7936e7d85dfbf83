"""Rewrite the golden file on purpose: ``python -m tests.golden.regen_identifiers``.

The golden file pins canonical forms and keys. Change it only on purpose (a documented change of
a canonical form), review the diff, and say why in the commit message: every snapshot built
before the change keys identifiers the old way.
"""

from __future__ import annotations

from pathlib import Path

from scameter.identifiers import Kind, normalize

GOLDEN = Path(__file__).with_name("identifiers.tsv")
HEADER = "# input\tkind\tcanonical\tkey_hex\n"

#: (kind, raw input). Inputs hold no tab or newline (the file is plain TSV, no quoting).
INPUTS: list[tuple[Kind, str]] = [
    (Kind.PHONE, "+85291234567"),
    (Kind.PHONE, "9123 4567"),
    (Kind.PHONE, "852-9123-4567"),
    (Kind.PHONE, "001 852 9123 4567"),
    (Kind.PHONE, "（852）９１２３ ４５６７"),
    (Kind.PHONE, "2345 6789"),
    (Kind.PHONE, "+852 1234 5678"),
    (Kind.PHONE, "+44 20 7946 0958"),
    (Kind.PHONE, "0086 138 1234 5678"),
    (Kind.PHONE, "18222"),
    (Kind.PHONE, "999"),
    (Kind.URL, "http://www.Example.com/a/../b/./c?x=1#frag"),
    (Kind.URL, "example.com"),
    (Kind.URL, "https://bücher.example/%7Euser/"),
    (Kind.URL, "http://3279880203/blah"),
    (Kind.DOMAIN, "WWW.Example.COM."),
    (Kind.DOMAIN, "bücher.example"),
    (Kind.DOMAIN, "https://login.evil.example/path"),
    (Kind.EMAIL, "Foo.Bar@Example.COM"),
    (Kind.EMAIL, "user@bücher.example"),
    (Kind.EMAIL, "mailto:first.last+tag@gmail.com"),
    (Kind.FPS_ID, "1234567"),
    (Kind.FPS_ID, "123-456-789"),
    (Kind.BANK_ACCOUNT, "004-123-456789001"),
    (Kind.BANK_ACCOUNT, "024 123 456789 001"),
    (Kind.BANK_ACCOUNT, "999-123-456789"),
    (Kind.PLATFORM_ACCOUNT, "telegram:@Scam_King"),
    (Kind.PLATFORM_ACCOUNT, "https://t.me/scam_king"),
    (Kind.PLATFORM_ACCOUNT, "whatsapp:9123 4567"),
    (Kind.PLATFORM_ACCOUNT, "twitter:ScamKing"),
    (Kind.PLATFORM_ACCOUNT, "facebook:John.Doe.123"),
    (Kind.PLATFORM_ACCOUNT, "line:@@abc1234"),
    (Kind.CRYPTO_WALLET, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
    (Kind.CRYPTO_WALLET, "BC1QW508D6QEJXTDG4Y5R3ZARVARY0C5XW7KV8F3T4"),
    (Kind.CRYPTO_WALLET, "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"),
    (Kind.CRYPTO_WALLET, "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"),
    (Kind.IP, "192.0.2.1"),
    (Kind.IP, "2001:DB8:0:0:0:0:0:1"),
    (Kind.IP, "::ffff:192.0.2.1"),
    (Kind.SMS_SENDER, "#HSBC"),
    (Kind.SMS_SENDER, "#GovHK"),
    (Kind.SMS_SENDER, "#Chong Hing"),
    (Kind.SMS_SENDER, "＃ｈｋｐｏｓｔ"),
]


def rows() -> list[tuple[str, str, str, str]]:
    """(input, kind, canonical, key hex) for every golden input, computed now."""
    out = []
    for kind, raw in INPUTS:
        if "\t" in raw or "\n" in raw:
            raise ValueError(f"golden input must not hold a tab or newline: {raw!r}")
        ident = normalize(kind, raw)
        out.append((raw, kind.value, ident.value, ident.key.hex()))
    return out


def render() -> str:
    return HEADER + "".join("\t".join(row) + "\n" for row in rows())


def main() -> None:
    GOLDEN.write_text(render(), encoding="utf-8")
    print(f"wrote {len(INPUTS)} rows to {GOLDEN}")


if __name__ == "__main__":
    main()
