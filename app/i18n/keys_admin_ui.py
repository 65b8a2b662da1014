"""Catalogue keys for the account screen and the user administration screen: key -> (vi, en)."""

KEYS: dict[str, tuple[str, str]] = {
    # ---- /account
    "account_ui.must_change": (
        "Bạn đang dùng mật khẩu tạm thời. Hãy đặt mật khẩu mới trước khi tiếp tục.",
        "You are using a temporary password. Please choose a new one before you continue.",
    ),
    "account_ui.password_title": ("Đổi mật khẩu", "Change password"),
    "account_ui.current_password": ("Mật khẩu hiện tại", "Current password"),
    "account_ui.new_password": ("Mật khẩu mới", "New password"),
    "account_ui.repeat_password": ("Nhập lại mật khẩu mới", "Repeat the new password"),
    "account_ui.password_hint": (
        "Ít nhất 8 ký tự; không dùng mật khẩu phổ biến hay tên đăng nhập.",
        "At least 8 characters; not a common password or your username.",
    ),
    "account_ui.change_password": ("Đổi mật khẩu", "Change password"),
    "account_ui.current_required": (
        "Vui lòng nhập mật khẩu hiện tại.",
        "Please enter your current password.",
    ),
    "account_ui.password_mismatch": (
        "Hai mật khẩu mới không giống nhau.",
        "The two new passwords do not match.",
    ),
    "account_ui.password_changed": (
        "Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã được đăng xuất.",
        "Your password has been changed. Your other sessions have been signed out.",
    ),
    "account_ui.language_title": ("Ngôn ngữ", "Language"),
    "account_ui.language_vi": ("Tiếng Việt", "Vietnamese"),
    "account_ui.language_en": ("English", "English"),
    "account_ui.language_saved": (
        "Đã lưu ngôn ngữ cho tài khoản của bạn.",
        "The language has been saved for your account.",
    ),
    "account_ui.sessions_title": ("Phiên đăng nhập đang mở", "Open sessions"),
    "account_ui.sessions_hint": (
        "Nếu bạn mất điện thoại hoặc đăng nhập trên máy người khác, hãy kết thúc phiên đó.",
        "If you lost a phone or signed in on someone else's device, end that session.",
    ),
    "account_ui.this_device": ("Thiết bị này", "This device"),
    "account_ui.signed_in_at": ("Đăng nhập lúc", "Signed in"),
    "account_ui.last_seen": ("Hoạt động gần nhất", "Last active"),
    "account_ui.address": ("Địa chỉ mạng", "Network address"),
    "account_ui.end_session": ("Kết thúc", "End"),
    # ---- /admin/users
    "admin_ui.search_label": ("Tìm tài khoản", "Search users"),
    "admin_ui.search_placeholder": (
        "Tên, tên đăng nhập hoặc số điện thoại",
        "Name, username or phone",
    ),
    "admin_ui.create": ("Tạo tài khoản", "New user"),
    "admin_ui.create_title": ("Tạo tài khoản mới", "Create a user"),
    "admin_ui.create_submit": ("Tạo tài khoản", "Create user"),
    "admin_ui.col_name": ("Họ tên", "Name"),
    "admin_ui.col_phone": ("Điện thoại", "Phone"),
    "admin_ui.col_roles": ("Vai trò và phạm vi", "Roles and scope"),
    "admin_ui.col_status": ("Trạng thái", "Status"),
    "admin_ui.active": ("Đang hoạt động", "Active"),
    "admin_ui.disabled": ("Đã khoá", "Disabled"),
    "admin_ui.must_change_badge": ("Chờ đổi mật khẩu", "Must change password"),
    "admin_ui.manage": ("Quản lý", "Manage"),
    "admin_ui.no_role": ("Chưa có vai trò", "No role yet"),
    "admin_ui.no_users": ("Không tìm thấy tài khoản nào.", "No users found."),
    "admin_ui.page": ("Trang", "Page"),
    "admin_ui.users_count": ("tài khoản", "users"),
    "admin_ui.previous": ("Trang trước", "Previous page"),
    "admin_ui.next": ("Trang sau", "Next page"),
    "admin_ui.username": ("Tên đăng nhập", "Username"),
    "admin_ui.username_hint": (
        "Chữ thường không dấu, số, dấu chấm; ví dụ: nguyen.hoa",
        "Lower-case letters, digits, dots; e.g. nguyen.hoa",
    ),
    "admin_ui.full_name": ("Họ và tên", "Full name"),
    "admin_ui.phone": ("Số điện thoại (không bắt buộc)", "Phone number (optional)"),
    "admin_ui.language": ("Ngôn ngữ", "Language"),
    "admin_ui.role": ("Vai trò", "Role"),
    "admin_ui.province": ("Tỉnh/thành phố", "Province"),
    "admin_ui.scope": ("Phạm vi", "Scope"),
    "admin_ui.scope_hint": (
        "Chỉ gồm các nơi thuộc phạm vi của bạn.",
        "Only places within your own scope are listed.",
    ),
    "admin_ui.scope_everywhere": ("Toàn quốc", "Everywhere"),
    "admin_ui.otp_title": ("Mật khẩu dùng một lần", "One-time password"),
    "admin_ui.otp_for": ("Mật khẩu tạm thời của", "Temporary password for"),
    "admin_ui.otp_once": (
        "Mật khẩu chỉ hiện một lần. Hãy trao trực tiếp cho người dùng; họ phải đổi mật khẩu"
        " ngay khi đăng nhập lần đầu.",
        "This password is shown only once. Give it to the user in person; they must change it"
        " when they first sign in.",
    ),
    "admin_ui.copy": ("Sao chép", "Copy"),
    "admin_ui.copied_toast": ("Đã sao chép mật khẩu.", "Password copied."),
    "admin_ui.otp_ack": ("Tôi đã ghi lại mật khẩu", "I have copied the password"),
    "admin_ui.details": ("Thông tin", "Details"),
    "admin_ui.saved": ("Đã lưu.", "Saved."),
    "admin_ui.roles": ("Vai trò", "Roles"),
    "admin_ui.add_role": ("Thêm vai trò", "Add role"),
    "admin_ui.add_role_title": ("Thêm vai trò mới", "Give another role"),
    "admin_ui.remove_role": ("Bỏ", "Remove"),
    "admin_ui.role_added": (
        "Đã thêm vai trò. Người dùng cần đăng nhập lại.",
        "Role added. The user has to sign in again.",
    ),
    "admin_ui.role_removed": (
        "Đã bỏ vai trò. Người dùng cần đăng nhập lại.",
        "Role removed. The user has to sign in again.",
    ),
    "admin_ui.no_sessions": ("Không có phiên nào đang mở.", "No open sessions."),
    "admin_ui.session_ended": ("Đã kết thúc phiên.", "Session ended."),
    "admin_ui.actions": ("Thao tác", "Actions"),
    "admin_ui.disable": ("Khoá tài khoản", "Disable account"),
    "admin_ui.enable": ("Mở khoá tài khoản", "Enable account"),
    "admin_ui.disabled_done": (
        "Đã khoá tài khoản và đăng xuất mọi phiên.",
        "The account is disabled and all its sessions have ended.",
    ),
    "admin_ui.enabled_done": ("Đã mở khoá tài khoản.", "The account is enabled."),
    "admin_ui.reset_password": ("Đặt lại mật khẩu", "Reset password"),
    "admin_ui.reset_confirm": (
        "Tạo mật khẩu tạm thời mới? Mọi phiên đăng nhập của người này sẽ kết thúc.",
        "Create a new temporary password? All of this user's sessions will end.",
    ),
    "admin_ui.reset_done": (
        "Đã đặt lại mật khẩu; mọi phiên đã kết thúc.",
        "Password reset; all sessions have ended.",
    ),
    "admin_ui.second_factor_badge": ("Có xác thực hai bước", "Two-step verification on"),
    "admin_ui.tfa_reset": ("Đặt lại xác thực hai bước", "Reset two-step verification"),
    "admin_ui.tfa_reset_confirm": (
        "Dùng khi người này mất cả điện thoại lẫn mã khôi phục. Ứng dụng xác thực và các mã "
        "khôi phục cũ sẽ hết hiệu lực, mọi phiên đăng nhập kết thúc, và lần đăng nhập tới họ "
        "phải cài lại xác thực hai bước. Hãy chắc chắn đúng là người đó đang nhờ bạn.",
        "For someone who lost both their phone and their recovery codes. Their authenticator "
        "app and old recovery codes stop working, all their sessions end, and at their next "
        "sign-in they must set up two-step verification again. Make sure it really is them "
        "asking.",
    ),
    "admin_ui.tfa_reset_reason": ("Lý do", "Reason"),
    "admin_ui.tfa_reset_reason_hint": (
        "Ví dụ: mất điện thoại, đã gọi lại xác nhận. Ghi vào nhật ký truy cập.",
        "E.g. phone lost, called back to confirm. Kept in the audit log.",
    ),
    "admin_ui.tfa_reset_submit": ("Đặt lại", "Reset"),
    "admin_ui.tfa_reset_done": (
        "Đã đặt lại xác thực hai bước; mọi phiên đã kết thúc. Lần đăng nhập tới người này "
        "sẽ cài lại.",
        "Two-step verification reset; all sessions have ended. They set it up again at their "
        "next sign-in.",
    ),
    "admin_ui.close": ("Đóng", "Close"),
}
