"""The words and facts the demo data is made of: number ranges, banks, categories, sources,
real official entities, brands and lures, and the storyline the demo tour follows.

Responsibility: static tables only; :mod:`scameter.demo.generator` draws from them. Facts that
belong to the identifier layer are not copied here: bank codes are picked from
:data:`scameter.identifiers.bank.HK_BANK_CODES` and platforms checked against
:data:`scameter.identifiers.platform.PLATFORMS`.

Invariants: the *order* of every tuple the generator draws from is part of its seeded output
(``rng.choice`` picks by index), so reordering or extending one changes every generated sample,
the bundled ``scameter/data/sample/reports.jsonl`` included (``tests/unit/demo/test_generator.py``
fails until it is regenerated). :data:`ALLOWLIST` holds only real, public numbers and domains of
official entities, as published on their own websites.
"""

from __future__ import annotations

from typing import Final

from scameter.identifiers.bank import HK_BANK_CODES
from scameter.identifiers.model import Kind
from scameter.identifiers.platform import PLATFORMS

# Three-digit prefixes whose every 8-digit number libphonenumber (HK metadata) classifies as
# MOBILE resp. FIXED_LINE. Checked by tests/unit/demo/test_generator.py against phonenumbers.
_MOBILE_TEXT = (
    "510 511 512 513 514 516 517 518 519 520 521 522 523 524 526 527 528 529 530 531 532 533 "
    "534 536 537 538 539 540 541 542 543 544 546 547 548 549 550 551 552 553 554 556 557 558 "
    "559 560 561 562 563 564 566 568 569 570 571 572 574 576 577 578 579 590 591 592 593 594 "
    "596 597 598 599 601 602 603 604 605 606 607 608 609 610 611 612 613 614 615 616 617 618 "
    "619 620 621 622 623 624 625 627 628 629 630 631 632 633 634 635 636 637 638 639 640 641 "
    "642 643 644 645 646 647 648 649 650 651 652 653 654 655 656 657 658 659 660 661 662 663 "
    "664 665 667 668 669 670 671 672 673 674 675 676 677 679 680 681 682 683 684 685 687 688 "
    "689 690 691 692 693 694 695 696 697 698 699 701 702 703 704 705 709 901 902 903 904 905 "
    "906 907 908 909 910 912 913 914 915 916 917 918 919 920 921 922 923 924 925 926 927 928 "
    "930 931 932 933 934 935 936 937 938 940 941 942 943 944 945 946 947 948 949 950 951 952 "
    "953 954 955 956 957 958 960 961 962 963 964 965 966 967 968 969 970 971 972 973 974 975 "
    "976 977 978 979 980 981 982 983 984 985 986 987 988"
)
_FIXED_TEXT = (
    "210 211 212 213 214 215 216 217 218 219 220 221 223 224 225 226 227 228 229 230 231 232 "
    "233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 "
    "255 256 257 258 259 260 261 262 263 264 265 266 267 268 269 270 271 272 273 274 275 276 "
    "277 278 279 280 281 282 283 284 285 286 287 288 289 290 291 292 293 294 295 296 297 298 "
    "299 310 311 312 314 315 316 317 318 319 340 341 342 344 346 347 348 349 350 351 352 354 "
    "355 356 357 358 359 360 361 362 364 365 366 367 368 369 370 371 372 374 375 376 379 385 "
    "387 389 390 391 392 394 395 396 397 398 399"
)
MOBILE_PREFIXES: Final[tuple[str, ...]] = tuple(_MOBILE_TEXT.split())
FIXED_PREFIXES: Final[tuple[str, ...]] = tuple(_FIXED_TEXT.split())

#: The retail banks, traditional and virtual, whose accounts mule herders rent out; their names
#: and the full list of codes live in the identifier layer.
_MULE_BANKS: Final = frozenset(
    {"003", "004", "009", "012", "015", "016", "024", "040", "041", "043", "072", "250"}
    | {"387", "388", "389", "390"}
)
#: Bank codes used for mule accounts and bank reporters, in the identifier layer's table order.
BANK_CODES: Final[tuple[str, ...]] = tuple(code for code in HK_BANK_CODES if code in _MULE_BANKS)

#: Categories as the HK Police publish them, with rough relative frequencies of reports.
CATEGORIES: Final[tuple[tuple[str, int], ...]] = (
    ("online_shopping", 30),
    ("employment", 15),
    ("investment", 14),
    ("phishing_sms", 12),
    ("impersonation_of_officials", 8),
    ("romance", 6),
    ("loan", 5),
    ("guess_who", 3),
    ("ticketing", 3),
    ("tech_support", 2),
    ("rental", 2),
)

SOURCES: Final[tuple[str, ...]] = ("police", "public", "bank", "telecom", "feed")
SOURCE_WEIGHTS: Final = (12, 60, 8, 10, 10)
#: Which identifier kinds each source reports (a bank sees payees, a telecom numbers and
#: links); a kind listed twice is picked twice as often.
SOURCE_KINDS: Final[dict[str, tuple[Kind, ...]]] = {
    "police": (
        Kind.PHONE,
        Kind.URL,
        Kind.FPS_ID,
        Kind.BANK_ACCOUNT,
        Kind.PLATFORM_ACCOUNT,
        Kind.CRYPTO_WALLET,
        Kind.EMAIL,
    ),
    "public": (
        Kind.PHONE,
        Kind.PHONE,
        Kind.PHONE,
        Kind.URL,
        Kind.PLATFORM_ACCOUNT,
        Kind.EMAIL,
        Kind.FPS_ID,
    ),
    "bank": (Kind.BANK_ACCOUNT, Kind.FPS_ID, Kind.PHONE),
    "telecom": (Kind.PHONE, Kind.PHONE, Kind.URL),
    "feed": (Kind.URL, Kind.URL, Kind.DOMAIN, Kind.IP, Kind.CRYPTO_WALLET),
}
#: Who reports for each source (the suffix of the ``reporter`` field); the public's reporters
#: are numbered instead.
POLICE_UNITS: Final = ("adcc", "cyber", "crime-kowloon", "crime-hki")
TELECOMS: Final = ("csl", "hkt", "smartone", "cmhk", "3hk")
FEEDS: Final = ("urlhaus", "openphish", "phishtank", "partner-cert")

#: Real, public official entities (numbers and domains as published by their owners).
ALLOWLIST: Final[tuple[tuple[str, str, str], ...]] = (
    ("phone", "18222", "Hong Kong Police Force Anti-Scam Helpline"),
    ("phone", "999", "Hong Kong emergency services"),
    ("phone", "2527 7177", "Hong Kong Police Force Hotline"),
    ("phone", "2233 3000", "HSBC Hong Kong customer service"),
    ("phone", "2822 0228", "Hang Seng Bank customer service"),
    ("phone", "3988 2388", "Bank of China (Hong Kong) customer service"),
    ("phone", "2886 8888", "Standard Chartered Hong Kong customer service"),
    ("phone", "2878 8196", "Hong Kong Monetary Authority public enquiries"),
    ("phone", "2929 2222", "Consumer Council hotline"),
    ("phone", "2526 6366", "ICAC report corruption hotline"),
    ("domain", "police.gov.hk", "Hong Kong Police Force"),
    ("domain", "adcc.gov.hk", "Anti-Deception Coordination Centre"),
    ("domain", "cyberdefender.hk", "CyberDefender (Hong Kong Police Force)"),
    ("domain", "gov.hk", "Government of the Hong Kong SAR"),
    ("domain", "hkma.gov.hk", "Hong Kong Monetary Authority"),
    ("domain", "hsbc.com.hk", "HSBC Hong Kong"),
    ("domain", "hangseng.com", "Hang Seng Bank"),
    ("domain", "bochk.com", "Bank of China (Hong Kong)"),
    ("domain", "sc.com", "Standard Chartered"),
    ("domain", "hongkongpost.hk", "Hongkong Post"),
    ("domain", "icac.org.hk", "Independent Commission Against Corruption"),
    ("domain", "consumer.org.hk", "Consumer Council"),
)

# Lookalike material: brands scammers imitate and the words they add.
BRANDS: Final = (
    "hsbc",
    "hangseng",
    "bochk",
    "hkpost",
    "sfexpress",
    "hketoll",
    "octopus",
    "hkt",
    "csl",
    "smartone",
    "payme",
    "alipayhk",
)
LURES: Final = (
    "secure",
    "login",
    "verify",
    "refund",
    "parcel",
    "redelivery",
    "pay",
    "wallet",
    "invest",
    "vip",
    "gold",
    "support",
    "update",
    "account",
    "bonus",
    "job",
)
TLDS: Final = (
    "top",
    "xyz",
    "shop",
    "cc",
    "vip",
    "icu",
    "buzz",
    "online",
    "site",
    "com",
    "net",
    "info",
)
#: Paths of a campaign's own pages.
PAGE_PATHS: Final = ("login", "verify", "track", "pay", "refund", "invest", "apply")

_MOST_USED_PLATFORMS: Final = ("telegram", "whatsapp")
#: Signal usernames need the numeric suffix (``name.42``) the demo's handle maker does not write.
_UNUSED_PLATFORMS: Final = ("signal",)
#: Platforms campaigns use: the two most used in HK reports first, then the identifier layer's
#: other platforms in its order (so a platform added there shows up in the demo data).
CAMPAIGN_PLATFORMS: Final[tuple[str, ...]] = (
    *_MOST_USED_PLATFORMS,
    *(p for p in PLATFORMS if p not in _MOST_USED_PLATFORMS + _UNUSED_PLATFORMS),
)

#: Syllables of made-up names; handles start with a letter, so with one of the first list.
LETTER_SYLLABLES: Final = (
    "ka",
    "wing",
    "hk",
    "lok",
    "man",
    "chi",
    "yan",
    "fat",
    "ming",
    "ho",
    "vip",
)
SYLLABLES: Final = (*LETTER_SYLLABLES, "88")

#: Fixed entries the demo tour relies on; they lead every generated sample.
STORYLINE: Final[dict[str, str]] = {
    "call_high_risk": "6391 2745",
    "fps_high_risk": "1684203",
    "account_high_risk": "004-512-338271-838",
    "scam_domain": "hkpost-redelivery.top",
    "near_match_url": "https://hkpost-redellvery.top/track?id=HK2211",
    "verified_phone": "18222",
    "platform_url": "https://bit.ly/3hkParcel",
}
