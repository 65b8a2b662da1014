"""Catalogue keys of the card screens: scanning, the client's card, the A4 print sheet."""

KEYS: dict[str, tuple[str, str]] = {
    # Scan screen
    "cardui.scan.intro": (
        "Hướng camera vào mã QR trên thẻ, hoặc nhập mã in dưới mã QR.",
        "Point the camera at the QR on the card, or type the code printed under it.",
    ),
    "cardui.scan.stop": ("Tắt camera", "Turn camera off"),
    "cardui.scan.camera_unavailable": (
        "Không mở được camera trên máy này. Hãy nhập mã thẻ bên dưới.",
        "The camera cannot be opened on this device. Please type the card code below.",
    ),
    "cardui.scan.camera_denied": (
        "Ứng dụng chưa được phép dùng camera. Hãy cho phép trong cài đặt trình duyệt, "
        "hoặc nhập mã thẻ bên dưới.",
        "The app may not use the camera. Allow it in the browser settings, "
        "or type the card code below.",
    ),
    "cardui.scan.lookup": ("Tra cứu", "Look up"),
    "cardui.scan.code_required": ("Hãy nhập mã thẻ.", "Please type the card code."),
    "cardui.scan.next": ("Quét thẻ khác", "Scan another card"),
    "cardui.scan.referred_on": ("Chuyển gửi ngày {date}", "Referred on {date}"),
    "cardui.scan.card_status": ("Trạng thái thẻ", "Card status"),
    # Card screen
    "cardui.card.client": ("Đối tượng", "Client"),
    "cardui.card.none": (
        "Đối tượng chưa có thẻ đang dùng. Cấp thẻ để in và trao cho đối tượng.",
        "The client has no active card. Issue one to print and hand over.",
    ),
    "cardui.card.active": ("Thẻ đang dùng", "Active card"),
    "cardui.card.show_hint": (
        "Có thể quét mã này ngay trên màn hình, hoặc tải tệp PDF để in thẻ. Mã chỉ hiện lúc "
        "cấp thẻ: hãy in ngay.",
        "This code can be scanned from the screen, or download the PDF to print the card. The "
        "code is shown only when the card is issued: print it now.",
    ),
    "cardui.card.code_once": (
        "Vì an toàn, mã QR và mã thẻ chỉ hiện lúc cấp thẻ. Muốn in lại, hãy cấp thẻ mới: thẻ "
        "hiện tại sẽ ngừng hoạt động.",
        "For safety, the QR and the card code are shown only when the card is issued. To print "
        "it again, issue a new card: the current one stops working.",
    ),
    "cardui.card.print_after_issue": (
        "Chỉ in được thẻ vừa cấp. Hãy cấp thẻ mới rồi tải tệp PDF.",
        "Only a card just issued can be printed. Issue a new card, then download the PDF.",
    ),
    "cardui.card.reissue_confirm": (
        "Cấp thẻ mới sẽ làm thẻ hiện tại ngừng hoạt động. Tiếp tục?",
        "Issuing a new card stops the current one from working. Continue?",
    ),
    "cardui.card.revoke_reason": ("Lý do thu hồi", "Reason for revoking"),
    "cardui.card.revoke_confirm": (
        "Thẻ bị thu hồi sẽ không dùng được nữa. Khi quét, ứng dụng sẽ báo thẻ đã bị thu hồi.",
        "A revoked card no longer works. Scanning it will say it was revoked.",
    ),
    "cardui.card.confirm": ("Xác nhận", "Confirm"),
    "cardui.card.issued": ("Đã cấp thẻ mới.", "A new card was issued."),
    "cardui.card.revoked": ("Đã thu hồi thẻ.", "The card was revoked."),
    "cardui.card.history_empty": ("Chưa có thẻ nào.", "No cards yet."),
    "cardui.card.back": ("Về hồ sơ đối tượng", "Back to the client's profile"),
    "cardui.card.reason": ("Lý do", "Reason"),
    # A4 print sheet
    "cardui.print.title": ("In thẻ theo xã", "Print cards by commune"),
    "cardui.print.commune": ("Xã, phường", "Commune"),
    "cardui.print.count": ("{name}: {without} chưa có thẻ, {count} có thẻ",
                           "{name}: {without} without a card, {count} with one"),
    "cardui.print.none": (
        "Chưa có đối tượng nào đang được quản lý trong địa bàn bạn quản lý.",
        "There are no clients under management in the area you manage.",
    ),
    "cardui.print.hint": (
        "Mỗi trang A4 có 10 thẻ và dấu cắt. Khi in, chọn tỉ lệ 100% (không co giãn).",
        "Each A4 page holds 10 cards with cut marks. Print at 100% scale (no fitting).",
    ),
    "cardui.print.sheet": ("In thẻ cho", "Print cards for"),
    "cardui.print.sheet_new": ("Người chưa có thẻ (thẻ đang dùng vẫn giữ nguyên)",
                               "Clients without a card (the cards in use stay valid)"),
    "cardui.print.sheet_reissue": (
        "In lại thẻ cho cả xã: thẻ họ đang cầm sẽ ngừng hoạt động",
        "Reprint every card of the commune: the cards they hold stop working",
    ),
    "cardui.print.nobody_new": (
        "Mọi đối tượng của xã này đã có thẻ. Muốn in lại, chọn “In lại thẻ cho cả xã”.",
        "Every client of this commune has a card. To reprint, choose “Reprint every card”.",
    ),
    "cardui.print.nobody_reissue": ("Chưa ai trong xã này có thẻ đang dùng.",
                                    "Nobody in this commune has a card in use yet."),
    "cardui.print.download": ("Tải tệp PDF (A4)", "Download PDF (A4)"),
    "cardui.print.done": ("Đã tạo tệp in {count} thẻ.", "Created a print file of {count} cards."),
    "cardui.nav.print": ("In thẻ", "Print cards"),
}
