"""Catalogue keys for sign-in, sessions, passwords and user administration: key -> (vi, en)."""

KEYS: dict[str, tuple[str, str]] = {
    "auth.invalid_credentials": (
        "Tên đăng nhập hoặc mật khẩu không đúng.",
        "Wrong username or password.",
    ),
    "auth.throttled": (
        "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút.",
        "Too many failed sign-ins. Please try again in {minutes} minutes.",
    ),
    "auth.role_not_assigned": (
        "Tài khoản của bạn không có vai trò này.",
        "Your account does not have this role.",
    ),
    "account.password_too_short": (
        "Mật khẩu phải có ít nhất {min} ký tự.",
        "The password must have at least {min} characters.",
    ),
    "account.password_too_long": (
        "Mật khẩu không được dài quá {max} ký tự.",
        "The password must not be longer than {max} characters.",
    ),
    "account.password_is_username": (
        "Mật khẩu không được trùng với tên đăng nhập.",
        "The password must not be the same as the username.",
    ),
    "account.password_too_common": (
        "Mật khẩu này quá phổ biến và dễ đoán. Hãy chọn mật khẩu khác.",
        "This password is too common and easy to guess. Please choose another.",
    ),
    "account.current_password_wrong": (
        "Mật khẩu hiện tại không đúng.",
        "The current password is wrong.",
    ),
    "account.password_unchanged": (
        "Mật khẩu mới phải khác mật khẩu hiện tại.",
        "The new password must differ from the current one.",
    ),
    "account.language_invalid": (
        "Ngôn ngữ không hợp lệ.",
        "Unknown language.",
    ),
    "account.username_invalid": (
        "Tên đăng nhập dài 3–64 ký tự, chỉ gồm chữ thường không dấu, số, dấu chấm, gạch dưới"
        " hoặc gạch ngang, và có ít nhất một chữ cái.",
        "Usernames are 3–64 characters of lower-case letters a–z, digits, dot, underscore or"
        " hyphen, with at least one letter.",
    ),
    "account.username_taken": (
        "Tên đăng nhập này đã được dùng.",
        "This username is already taken.",
    ),
    "account.full_name_required": (
        "Vui lòng nhập họ và tên.",
        "Please enter the full name.",
    ),
    "account.full_name_too_long": (
        "Họ và tên quá dài (tối đa 120 ký tự).",
        "The full name is too long (120 characters at most).",
    ),
    "account.phone_invalid": (
        "Số điện thoại không hợp lệ.",
        "This is not a valid phone number.",
    ),
    "account.phone_taken": (
        "Số điện thoại này đã thuộc về một tài khoản khác.",
        "This phone number belongs to another account.",
    ),
    "account.organisation_invalid": (
        "Tổ chức không tồn tại hoặc nằm ngoài phạm vi của bạn.",
        "The organisation does not exist or is outside your scope.",
    ),
    "account.scope_invalid": (
        "Phạm vi không phù hợp với vai trò (tình nguyện viên: một xã/phường; cán bộ quản lý:"
        " xã/phường hoặc tỉnh/thành phố; nhân viên cơ sở: một cơ sở; quản trị: tỉnh/thành phố"
        " hoặc xã/phường).",
        "The scope does not fit the role (volunteer: a commune; supervisor: a commune or"
        " province; clinic staff: a facility; administrator: a province or commune).",
    ),
    "account.scope_too_broad": (
        "Bạn không thể cấp phạm vi rộng hơn phạm vi của chính mình.",
        "You cannot grant a scope broader than your own.",
    ),
    "account.not_self": (
        "Bạn không thể làm việc này với chính tài khoản của mình.",
        "You cannot do this to your own account.",
    ),
    "account.admin_exists": (
        "Đã có quản trị viên; không thể tạo quản trị viên đầu tiên nữa.",
        "An administrator already exists; the first administrator cannot be created again.",
    ),
}
