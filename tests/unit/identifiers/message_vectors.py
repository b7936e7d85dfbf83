"""Real-world-shaped messages and exactly the identifiers each must yield, in text order.

Shapes follow the scam texts the HK Police, HK Post, the HKMA and the banks publish warnings
about (parcel redelivery, bank account "locked", tax refund, investment groups, part-time jobs,
fake FPS payees), in English, Traditional Chinese and both; defanged, full-width, with
invisible characters and bidi overrides, emoji, and none at all. Every identifier is
fictitious: ``.top`` / ``.xyz`` / ``.cc`` scam-shaped domains, HK numbers in allocated mobile
ranges but made up, and the wallets are the checksum specifications' own test vectors
(EIP-55, BIP-173) or famous public addresses, so they are certainly checksummed.

Each vector: ``(id, text, ["kind:canonical", ...])``. The tests compare the whole list, so an
extra identifier (a false positive) fails as surely as a missing one.
"""

from __future__ import annotations

ETH = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"  # EIP-55's own test vector
ETH_CANON = "crypto_wallet:ethereum:0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed"
ETH_BAD = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"  # last letter's case flipped
BTC = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa"
BTC_BAD = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb"
BECH32 = "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4"  # BIP-173 test vector
TRON = "TR7NHqjeKQxGTCi8q8ZY4pL8otSzgjLj6t"

LONG_FILLER = "請注意保安，切勿向任何人透露密碼。Stay alert and never share your password. " * 40

MESSAGES: list[tuple[str, str, list[str]]] = [
    # --- HK Post / parcel ----------------------------------------------------------------------
    (
        "hkpost-issue-example",
        "【HK Post】Your parcel is held. Pay HK$12 at https://hkpost-redelivery.top/track "
        "or call 6391 2745",
        ["url:https://hkpost-redelivery.top/track", "phone:+85263912745"],
    ),
    (
        "hkpost-zh",
        "【香港郵政】您的包裹因地址不完整未能派送，請於24小時內更新："
        "https://hongkongpost-hk.cc/u/8812 逾期將退回。",
        ["url:https://hongkongpost-hk.cc/u/8812"],
    ),
    (
        "hkpost-bare-domain",
        "HKPost: parcel HK2024061788 awaiting customs fee. Visit hkpost-fee.xyz to pay.",
        ["domain:hkpost-fee.xyz"],
    ),
    (
        "hkpost-path-no-scheme",
        "香港郵政：包裹地址有誤，請到 hkpost-redelivery.top/hk 重新預約派送",
        ["url:http://hkpost-redelivery.top/hk"],
    ),
    (
        "sf-express-mixed",
        "順豐速運SF Express: 你的快件(運單號SF1402938475610)派送失敗，"
        "請點擊 sf-express-hk.top/re 或致電 5123 4567",
        ["url:http://sf-express-hk.top/re", "phone:+85251234567"],
    ),
    (
        "parcel-www-host",
        "Your DHL package is on hold. Confirm at www.dhl-hk-delivery.com before 6pm.",
        ["domain:www.dhl-hk-delivery.com"],
    ),
    (
        "parcel-ideographic-dot",
        "包裹派送失敗，請登入 hkpost-track。top 補付運費。謝謝",
        ["domain:hkpost-track.top"],
    ),
    # --- banks ---------------------------------------------------------------------------------
    (
        "bank-locked-en",
        "HSBC: Your account has been suspended due to unusual activity. Verify now at "
        "https://hsbc-hk-secure.top/login?id=88213 to avoid closure.",
        ["url:https://hsbc-hk-secure.top/login?id=88213"],
    ),
    (
        "bank-locked-zh",
        "【中銀香港】閣下的網上銀行戶口已被凍結，請立即登入 https://bochk-verify.cc/auth "
        "解鎖，查詢請致電 2345 6789。",
        ["url:https://bochk-verify.cc/auth", "phone:+85223456789"],
    ),
    (
        "bank-sender-tag",
        "#HSBC: Your one-time password is 882193. Do not share it with anyone.",
        ["sms_sender:#HSBC"],
    ),
    (
        "bank-sender-spaced-line",
        "#Chong Hing\n創興銀行：你的信用卡積分即將到期。",
        ["sms_sender:#CHONGHING"],
    ),
    (
        "bank-sender-label",
        "Sender: #GovHK\nYour tax refund of HK$3,200 is ready: govhk-refund.top/claim",
        ["sms_sender:#GOVHK", "url:http://govhk-refund.top/claim"],
    ),
    (
        "hashtag-is-not-a-sender",
        "Beware of fake bank links! #scam #HongKong #ADCC call 18222 for advice",
        [],
    ),
    (
        "bank-email-and-phone",
        "Dear customer, reply to hangseng.security@hs-bank-alert.com or WhatsApp +852 9123 4567 "
        "to restore your account.",
        ["email:hangseng.security@hs-bank-alert.com", "phone:+85291234567"],
    ),
    (
        "bank-homoglyph-cyrillic",
        "Login at hsbс-online.com now",  # the 'с' before '-' is CYRILLIC SMALL LETTER ES
        ["domain:xn--hsb-online-ewi.com"],
    ),
    # --- government / tax / tolls --------------------------------------------------------------
    (
        "tax-refund",
        "[GovHK] IRD: You have an unclaimed tax refund HK$1,890. Claim: http://ird-gov-hk.top/refund",
        ["url:http://ird-gov-hk.top/refund"],
    ),
    (
        "hktoll",
        "HKeToll: 你的車輛有未繳隧道費，請在 48 小時內到 hketoll-pay.xyz/p 繳費，否則罰款 HK$400",
        ["url:http://hketoll-pay.xyz/p"],
    ),
    (
        "police-impersonation",
        "香港警務處：閣下涉及洗黑錢案件，請即致電 +852 6123 4567 聯絡李督察，案件編號 2024-05-12。",
        ["phone:+85261234567"],
    ),
    # --- FPS / bank transfers ------------------------------------------------------------------
    (
        "fps-id-en",
        "Deposit HK$500 via FPS ID 1234567 to confirm your job offer.",
        ["fps_id:1234567"],
    ),
    (
        "fps-colon",
        "Please pay the deposit. FPS: 7654321 (Mr Chan)",
        ["fps_id:7654321"],
    ),
    (
        "fps-zh",
        "訂金請轉數快 1234567，收到即發貨。",
        ["fps_id:1234567"],
    ),
    (
        "fps-zh-id-fullwidth",
        "轉數快ID：１２３４５６７８９　陳先生",
        ["fps_id:123456789"],
    ),
    (
        "fps-mobile-proxy",
        "FPS: 9876 5432 (mobile) thanks",
        ["phone:+85298765432"],
    ),
    (
        "unlabelled-7-digits",
        "Your verification code is 1234567. Booking ref 7654321.",
        [],
    ),
    (
        "bank-ac-en",
        "Transfer HK$3,000 to HSBC a/c 004-123-456789-001 within today.",
        ["bank_account:004-123-456789001"],
    ),
    (
        "bank-account-no",
        "Bank account no.: 024 123 456789 001 (Hang Seng)",
        ["bank_account:024-123-456789001"],
    ),
    (
        "bank-zh",
        "請將款項存入中銀戶口 012-345-678001，入數後WhatsApp 6391 2745。",
        ["bank_account:012-345-678001", "phone:+85263912745"],
    ),
    (
        # Grouped 3-6-3 (HSBC / Hang Seng print accounts so, without the bank code): not read
        # as bank 012; check asks for the bank code (docs/identifiers.md, bank_account).
        "bank-no-code",
        "請將款項存入戶口 012-345678-001，入數後WhatsApp 6391 2745。",
        ["phone:+85263912745"],
    ),
    (
        "bank-zh-zhanghu",
        "收款帳戶：389-747-123456789012（Mox）",
        ["bank_account:389-747-123456789012"],
    ),
    (
        "bank-unlabelled",
        "Reference 004-123-456789-001 has been processed.",
        [],
    ),
    (
        "fps-and-bank",
        "付款方法：轉數快 7654321 或 a/c 024-888-123456-001",
        ["fps_id:7654321", "bank_account:024-888-123456001"],
    ),
    # --- investment / crypto -------------------------------------------------------------------
    (
        "investment-whatsapp",
        "💰 穩賺不賠！每日回報 5%，即加入WhatsApp群組 wa.me/85291234567 📈",
        ["url:http://wa.me/85291234567"],
    ),
    (
        "investment-telegram",
        "Join our VIP signals group: https://t.me/hk_crypto_vip 🚀🚀 Profit 300% guaranteed",
        ["url:https://t.me/hk_crypto_vip"],
    ),
    (
        "crypto-eth",
        f"Send USDT (ERC20) to {ETH} to activate your account.",
        [ETH_CANON],
    ),
    (
        "crypto-eth-bad-checksum",
        f"Send USDT (ERC20) to {ETH_BAD} to activate your account.",
        [],
    ),
    (
        "crypto-btc-zh",
        f"比特幣錢包地址：{BTC}，轉帳後截圖。",
        [f"crypto_wallet:bitcoin:{BTC}"],
    ),
    (
        "crypto-btc-bad-checksum",
        f"Wallet {BTC_BAD}",
        [],
    ),
    (
        "crypto-bech32-and-tron",
        f"BTC: {BECH32} / USDT-TRC20: {TRON}",
        [f"crypto_wallet:bitcoin:{BECH32}", f"crypto_wallet:tron:{TRON}"],
    ),
    (
        "investment-platform",
        "Register at https://www.gold-invest-hk.com/register?ref=amy88 and add my WeChat. "
        "Customer service: cs@gold-invest-hk.com",
        [
            "url:https://www.gold-invest-hk.com/register?ref=amy88",
            "email:cs@gold-invest-hk.com",
        ],
    ),
    # --- jobs / romance / shopping -------------------------------------------------------------
    (
        "job-scam-mixed",
        "【兼職】在家工作日賺$800-$1500，無需經驗！"
        "有意請 WhatsApp 5987 6543 或 Telegram t.me/parttime_hk88",
        ["phone:+85259876543", "url:http://t.me/parttime_hk88"],
    ),
    (
        "job-scam-en",
        "Hi, I'm Amy from HR. Earn HK$2000/day liking videos. Contact me on +852 5234 5678.",
        ["phone:+85252345678"],
    ),
    (
        "shopping-carousell",
        "Buyer paid! Confirm receipt at carousell-hk-pay.top/o/5521 to get HK$680",
        ["url:http://carousell-hk-pay.top/o/5521"],
    ),
    (
        "shortener",
        "Your Netflix payment failed. Update: bit.ly/3Hk9xYz",
        ["url:http://bit.ly/3Hk9xYz"],
    ),
    (
        "international-numbers",
        "Call our overseas desk +1 (415) 555-0100 or +44 20 7946 0958, HK: (852) 9123 4567",
        ["phone:+14155550100", "phone:+442079460958", "phone:+85291234567"],
    ),
    (
        "idd-prefix",
        "致電 00852 6123 4567 或 852-6391-2745",
        ["phone:+85261234567", "phone:+85263912745"],
    ),
    (
        "two-numbers-adjacent",
        "Hotline 6391 2745 9123 4567",
        ["phone:+85263912745", "phone:+85291234567"],
    ),
    # --- defanged (analyst write-ups, forwarded warnings) --------------------------------------
    (
        "defanged-hxxps-dot",
        "IOC: hxxps://hkpost-redelivery[.]top/track (reported 3x)",
        ["url:https://hkpost-redelivery.top/track"],
    ),
    (
        "defanged-paren-dot",
        "Blocked domain: evil-bank(.)xyz",
        ["domain:evil-bank.xyz"],
    ),
    (
        "defanged-word-dot",
        "Do not open hxxp://secure-login[dot]hsbc-verify[dot]top/a",
        ["url:http://secure-login.hsbc-verify.top/a"],
    ),
    (
        "defanged-colon-brace",
        "Phish kit at hxxps[:]//mox-bank{.}cc/kyc",
        ["url:https://mox-bank.cc/kyc"],
    ),
    (
        "defanged-email",
        "Reported sender: refund[@]govhk-tax[.]top",
        ["email:refund@govhk-tax.top"],
    ),
    (
        "defanged-ip",
        "C2 server 203.0.113[.]45 seen in the SMS link",
        ["ip:203.0.113.45"],
    ),
    # --- full-width and compatibility characters -----------------------------------------------
    (
        "fullwidth-url",
        "請即登入ｈｔｔｐｓ：／／ｈｋｐｏｓｔ－ｔｒａｃｋ．ｃｏｍ／ａ查詢",
        ["url:https://hkpost-track.com/a"],
    ),
    (
        "fullwidth-phone",
        "聯絡電話：＋８５２　９１２３　４５６７",
        ["phone:+85291234567"],
    ),
    (
        "fullwidth-email",
        "電郵：ｓｕｐｐｏｒｔ＠ｈｋ－ｒｅｆｕｎｄ．ｔｏｐ",
        ["email:support@hk-refund.top"],
    ),
    (
        "chinese-punctuation-delimits",
        "網址：https://hkpost-redelivery.top/track，電話：63912745；客服：「cs@hkp-help.cc」",
        [
            "url:https://hkpost-redelivery.top/track",
            "phone:+85263912745",
            "email:cs@hkp-help.cc",
        ],
    ),
    (
        "en-dash-phone",
        "Call 9123–4567 now",
        ["phone:+85291234567"],
    ),
    # --- controls and bidi tricks --------------------------------------------------------------
    (
        "rlo-domain",
        "Open hsbc-secure\u202egnp.top\u202c to verify",
        ["domain:hsbc-securegnp.top"],
    ),
    (
        "zero-width-in-link",
        "Pay at https://hkpost\u200b-fee.top/p\u200bay now",
        ["url:https://hkpost-fee.top/pay"],
    ),
    (
        "zero-width-phone",
        "WhatsApp 6391\u200d2745 for details",
        ["phone:+85263912745"],
    ),
    (
        "terminal-escape",
        "\x1b[31mURGENT\x1b[0m visit evil-refund.top",
        ["domain:evil-refund.top"],
    ),
    (
        "binary-junk",
        "\x00\x01\x02\xff\xfe\ud800\udfff\x7f\x80\x9f",
        [],
    ),
    # --- no identifiers ------------------------------------------------------------------------
    (
        "none-en",
        "Hi mum, I lost my phone. This is my new number, can you help me with something?",
        [],
    ),
    (
        "none-zh",
        "媽媽，我換了新號碼，有急事想請你幫忙。",
        [],
    ),
    (
        "none-sentence-dots",
        "Payment done.Click below to continue. See you at 3 p.m. e.g. tomorrow.",
        [],
    ),
    (
        "none-amounts-dates",
        "You won HK$1,000,000! Draw date 12.05.2024, ticket 2024-05-12, ref 12345678.",
        [],
    ),
    (
        "none-emoji",
        "🎁🎉 恭喜你中獎！🎊 Congratulations!!! 🥳",
        [],
    ),
    (
        "empty",
        "",
        [],
    ),
    # --- several, repeated, long ---------------------------------------------------------------
    (
        "repeated-url",
        "Go to hkpost-fee.top/p now! Again: hkpost-fee.top/p",
        ["url:http://hkpost-fee.top/p", "url:http://hkpost-fee.top/p"],
    ),
    (
        "many-kinds",
        f"#HKPost\nPay at https://hkp.top/x, FPS ID 1234567, a/c 004-123-456789-001, "
        f"mail pay@hkp.top, call 6391 2745, wallet {ETH}, server 198.51.100.7",
        [
            "sms_sender:#HKPOST",
            "url:https://hkp.top/x",
            "fps_id:1234567",
            "bank_account:004-123-456789001",
            "email:pay@hkp.top",
            "phone:+85263912745",
            ETH_CANON,
            "ip:198.51.100.7",
        ],
    ),
    (
        "long-text",
        LONG_FILLER + "Call 5123 4567 or visit https://long-scam.top/a " + LONG_FILLER,
        ["phone:+85251234567", "url:https://long-scam.top/a"],
    ),
]
