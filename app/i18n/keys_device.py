"""Texts of the device code (assets/device/): the outbox, the lock screen, the offline screens.
Built into the device bundle at compile time (app/device_build.py), so they show with no server."""

KEYS: dict[str, tuple[str, str]] = {
    "device.saved_here": ("Đã lưu trên máy.", "Saved on this device."),
    "device.saved_offline": (
        "Đã lưu trên máy. Sẽ tự gửi khi có mạng.",
        "Saved on this device. It will be sent when there is a connection.",
    ),
    "device.sent_at": ("Đã gửi lúc {time}.", "Sent at {time}."),
    "device.saved_on": ("Lưu trên máy: {at}", "Saved on the device: {at}"),
    "device.sent_on": ("Đã gửi: {at}", "Sent: {at}"),
    "device.check_fields": (
        "Vui lòng xem lại các mục được đánh dấu.", "Please check the marked fields."
    ),
    "device.kept": (
        "Máy chủ chưa nhận bản ghi này. Bản ghi được giữ lại để sửa và gửi lại.",
        "The server did not accept this record. It is kept for you to correct and resend.",
    ),
    "device.error": (
        "Không lưu được trên máy. Vui lòng thử lại.", "Could not save on this device. Try again."
    ),
    "device.need_signin": (
        "Cần đăng nhập (khi có mạng) để gửi.", "Sign in (with a connection) to send."
    ),
    "device.need_unlock": (
        "Máy đang khóa: mở khóa rồi lưu lại.", "The device is locked: unlock it, then save again."
    ),
    "device.link.online": ("Có mạng", "Online"),
    "device.link.offline": ("Không có mạng", "Offline"),
    "device.link.unknown": ("Đang kiểm tra kết nối…", "Checking the connection…"),
    "device.waiting": ("{count} chờ gửi", "{count} waiting"),
    "device.refused": ("{count} cần xem lại", "{count} to review"),
    "device.last_sync": ("Đồng bộ lần cuối: {at}", "Last synced: {at}"),
    "device.never_synced": ("Chưa đồng bộ", "Not synced yet"),
    "device.sending": ("Đang gửi…", "Sending…"),
    "device.send_now": ("Gửi ngay", "Send now"),
    "device.records.title": ("Bản ghi trên máy", "Records on this device"),
    "device.records.short": ("Bản ghi", "Records"),
    "device.records.none": ("Chưa có bản ghi nào trên máy.", "No records on this device."),
    "device.close": ("Đóng", "Close"),
    "device.cancel": ("Hủy", "Cancel"),
    "device.status.waiting": ("Chờ gửi", "Waiting"),
    "device.status.sent": ("Đã gửi", "Sent"),
    "device.status.kept": ("Bị từ chối", "Refused"),
    "device.status.question": ("Cần trả lời", "Needs an answer"),
    "device.status.dismissed": ("Đã bỏ", "Given up"),
    # A refused record the volunteer gives up (POST /api/outbox/review/withdraw), or one their
    # supervisor dismissed (learnt from GET /api/outbox/review).
    "device.withdraw": ("Bỏ bản ghi này", "Give this record up"),
    "device.withdraw_confirm": (
        "Bỏ bản ghi này? Nó sẽ không được gửi nữa; máy chủ vẫn giữ để người giám sát xem.",
        "Give this record up? It will not be sent again; the server keeps it for your"
        " supervisor to see.",
    ),
    "device.withdraw_yes": ("Bỏ", "Give up"),
    "device.withdrawn": ("Bạn đã bỏ bản ghi này.", "You gave this record up."),
    "device.dismissed_by": ("Người giám sát đã bỏ qua: {reason}",
                            "Your supervisor dismissed it: {reason}"),
    "device.need_signal": ("Cần có mạng để làm việc này.", "This needs a connection."),
    "device.fix": ("Sửa", "Correct"),
    "device.fix_send": ("Lưu và gửi lại", "Save and resend"),
    "device.resend": ("Gửi lại", "Resend"),
    "device.send_anyway": ("Vẫn gửi", "Send anyway"),
    "device.kind.visit": ("Lần thăm", "Visit"),
    "device.kind.drug_test": ("Xét nghiệm", "Drug test"),
    "device.kind.referral": ("Chuyển gửi", "Referral"),
    "device.kind.support": ("Hỗ trợ", "Support"),
    "device.kind.outreach_contact": ("Tiếp cận", "Outreach contact"),
    "device.kind.group_activity": ("Sinh hoạt nhóm", "Group activity"),
    "device.kind.client": ("Đăng ký đối tượng", "Client registration"),
    "device.kind.episode": ("Đợt quản lý", "Episode"),
    "device.form.visit": ("Ghi lần thăm", "Log a visit"),
    "device.form.drug_test": ("Xét nghiệm", "Drug test"),
    "device.form.referral": ("Chuyển gửi", "Referral"),
    "device.form.support": ("Hỗ trợ", "Support"),
    "device.nav.label": ("Điều hướng", "Navigation"),
    "device.nav.today": ("Hôm nay", "Today"),
    "device.nav.clients": ("Đối tượng", "Clients"),
    "device.nav.register": ("Đăng ký", "Register"),
    "device.nav.outreach": ("Tiếp cận", "Outreach"),
    "device.today.title": ("Hôm nay", "Today"),
    "device.today.as_of": (
        "Danh sách lưu trên máy, cập nhật ngày {date}.", "List kept on the device, as of {date}."
    ),
    "device.today.empty": ("Không có việc cần làm.", "Nothing due."),
    "device.no_snapshot": (
        "Chưa có danh sách trên máy: cần đồng bộ khi có mạng.",
        "No list on this device yet: sync with a connection first.",
    ),
    "device.overdue": ("trễ {days} ngày", "{days} days overdue"),
    "device.clients.title": ("Đối tượng của tôi", "My clients"),
    "device.clients.search": ("Tìm theo tên", "Search by name"),
    "device.clients.none": ("Không tìm thấy.", "Nothing found."),
    "device.client.title": ("Hồ sơ đối tượng", "Client"),
    "device.client.unknown": (
        "Không có hồ sơ này trên máy.", "This client is not on this device."
    ),
    "device.client.birth_year": ("Năm sinh", "Birth year"),
    "device.client.commune": ("Xã/phường", "Commune"),
    "device.client.address": ("Địa chỉ", "Address"),
    "device.client.phone": ("Điện thoại", "Phone"),
    "device.client.episode": ("Đợt quản lý", "Episode"),
    "device.client.due": ("Cần làm", "Due"),
    "device.client.referrals": ("Chuyển gửi đang mở", "Open referrals"),
    "device.client.recent": ("Gần đây", "Recent"),
    "device.client.on_device": ("Bản ghi trên máy", "Records on this device"),
    "device.temp_client": ("chưa gửi", "not sent yet"),
    "device.temp_client_note": (
        "Đăng ký trên máy, chưa gửi. Các bản ghi cho người này sẽ được gửi sau bản đăng ký.",
        "Registered on this device, not sent yet. Records for this person go after it.",
    ),
    "device.lock.title": ("Mở khóa", "Unlock"),
    "device.lock.offline": (
        "Không có mạng. Dữ liệu trên máy đã được khóa.",
        "No connection. The data on this device is locked.",
    ),
    "device.lock.body": (
        "Nhập tên đăng nhập và mật khẩu (hoặc mã PIN) để làm việc khi không có mạng.",
        "Enter your login and password (or PIN) to work offline.",
    ),
    "device.lock.login": ("Tên đăng nhập", "Login"),
    "device.lock.secret": ("Mật khẩu hoặc mã PIN", "Password or PIN"),
    "device.lock.open": ("Mở khóa", "Unlock"),
    "device.lock.opening": ("Đang mở khóa…", "Unlocking…"),
    "device.lock.wrong": (
        "Sai mật khẩu hoặc mã PIN. Còn {left} lần thử; sai 5 lần, dữ liệu trên máy sẽ bị xóa.",
        "Wrong password or PIN. {left} tries left; after 5, the data on this device is wiped.",
    ),
    "device.lock.wiped": (
        "Sai 5 lần: dữ liệu của tài khoản này trên máy đã bị xóa. Đăng nhập lại khi có mạng.",
        "5 wrong tries: this account's data on the device was wiped. Sign in with a connection.",
    ),
    "device.lock.unknown": (
        "Tài khoản này chưa đăng nhập trên máy khi có mạng.",
        "This account has not signed in on this device with a connection.",
    ),
    "device.pin.offer": ("Đặt mã PIN", "Set a PIN"),
    "device.pin.title": ("Mã PIN mở máy", "Device PIN"),
    "device.pin.body": (
        "Mã PIN (ít nhất 6 chữ số) mở dữ liệu trên máy này khi không có mạng.",
        "A PIN (at least 6 digits) opens the data on this device when offline.",
    ),
    "device.pin.label": ("Mã PIN", "PIN"),
    "device.pin.again": ("Nhập lại mã PIN", "PIN again"),
    "device.pin.save": ("Lưu mã PIN", "Save the PIN"),
    "device.pin.format": ("Mã PIN gồm ít nhất 6 chữ số.", "The PIN is at least 6 digits."),
    "device.pin.mismatch": ("Hai mã PIN không khớp.", "The two PINs differ."),
    "device.pin.done": ("Đã đặt mã PIN.", "PIN set."),
    "device.question.title": ("Có thể đã có hồ sơ", "Possibly registered already"),
    "device.question.same": ("Là người này", "This is the person"),
    "device.question.new": ("Không phải, đăng ký mới", "No, register a new client"),
    "device.question.answer": ("Trả lời", "Answer"),
    "device.question.hidden": (
        "Và {count} hồ sơ khác bạn không được xem.", "And {count} other records you may not see."
    ),
    "device.signout.title": ("Đăng xuất", "Sign out"),
    "device.signout.body": (
        "Dữ liệu của bạn trên máy này được khóa lại; mở bằng mật khẩu hoặc mã PIN.",
        "Your data on this device is locked; your password or PIN opens it.",
    ),
    "device.signout.unsent": (
        "Bạn còn {count} bản ghi chưa gửi. Giữ lại (đã khóa) để gửi khi bạn đăng nhập lại, "
        "hoặc xóa chúng.",
        "You have {count} records not sent yet. Keep them (locked) to send when you sign in "
        "again, or delete them.",
    ),
    "device.signout.keep": ("Đăng xuất", "Sign out"),
    "device.signout.wipe": (
        "Đăng xuất và xóa dữ liệu của tôi trên máy", "Sign out and delete my data on this device"
    ),
    "device.signout.wipe_unsent": (
        "Đăng xuất và xóa cả {count} bản ghi chưa gửi",
        "Sign out and delete the {count} unsent records too",
    ),
}
