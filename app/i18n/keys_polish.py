"""Texts of the phone polish (issue 18): confirmations, in-page validation, connection, photo."""

from __future__ import annotations

KEYS: dict[str, tuple[str, str]] = {
    "common.connection_lost": (
        "Không kết nối được với máy chủ. Đang thử kết nối lại…",
        "Cannot reach the server. Trying to reconnect…",
    ),
    # Today: every date names what it is.
    "vol.today.referral.overdue_by": ("Hết hạn từ {date} ({days} ngày trước)",
                                      "Expired on {date} ({days} days ago)"),
    "vol.today.referral.due_today": ("Hết hạn hôm nay", "Expires today"),
    "vol.today.referral.due_on": ("Hết hạn ngày {date} (còn {days} ngày)",
                                  "Expires on {date} ({days} days left)"),
    "vol.today.episode.overdue_by": ("Quá ngày kết thúc {days} ngày (từ {date})",
                                     "{days} days past its end ({date})"),
    "vol.today.episode.due_today": ("Kết thúc hôm nay", "Ends today"),
    "vol.today.episode.due_on": ("Kết thúc ngày {date} (còn {days} ngày)",
                                 "Ends on {date} ({days} days left)"),
    # A referral's history entry names the clinic.
    "vol.timeline.referral_to": ("{status} · Nơi nhận: {facility}", "{status} · To: {facility}"),
    # Confirmations after a save (shown at the top of the screen, app/components/forms.py).
    "vol.reg.saved": ("Đã đăng ký {name} (sinh năm {year}).",
                      "{name} (born {year}) is registered."),
    # The record forms: shown by the device after a save (assets/device/src/main.js savedText).
    "rec.saved.visit": ("Đã lưu lần thăm {name} ngày {date}.",
                        "The visit to {name} on {date} is saved."),
    "rec.saved.test": ("Đã lưu kết quả xét nghiệm của {name} ngày {date}.",
                       "{name}'s drug test of {date} is saved."),
    "rec.saved.referral": ("Đã lưu chuyển gửi {name} đến {facility}.",
                           "The referral of {name} to {facility} is saved."),
    "rec.saved.support": ("Đã lưu hỗ trợ cho {name}.", "The support for {name} is saved."),
    "rec.saved.outreach": ("Đã lưu lần tiếp cận ngày {date}.",
                           "The outreach contact of {date} is saved."),
    "rec.saved.group": ("Đã lưu buổi sinh hoạt nhóm ngày {date}.",
                        "The group activity of {date} is saved."),
    "offline.discard_named": ("Xóa {what} của {name}, {date}", "Discard {what} of {name}, {date}"),
    # The client's photo (app/services/photos.py).
    "photo.title": ("Ảnh nhận diện (không bắt buộc)", "Photo for identification (optional)"),
    "photo.alt": ("Ảnh của", "Photo of"),
    "photo.choose": ("Chọn hoặc chụp ảnh", "Choose or take a photo"),
    "photo.consent": (
        "Người này đồng ý cho chụp và lưu ảnh để cơ sở điều trị nhận ra mình."
        " Ảnh không in trên thẻ và không có trong báo cáo.",
        "This person agrees to a photo being taken and kept so that the clinic can recognise"
        " them. The photo is not printed on the card and is in no report.",
    ),
    "photo.save": ("Lưu ảnh", "Save the photo"),
    "photo.withdraw": ("Xóa ảnh (người này rút lại đồng ý)",
                       "Delete the photo (consent withdrawn)"),
    "photo.saved": ("Đã lưu ảnh của {name}.", "{name}'s photo is saved."),
    "photo.removed": ("Đã xóa ảnh của {name}: đã ghi nhận rút lại đồng ý.",
                      "{name}'s photo is deleted; the withdrawn consent is recorded."),
    "photo.error.consent_required": ("Cần sự đồng ý của người này để lưu ảnh.",
                                     "The person's consent is needed to keep a photo."),
    "photo.error.not_an_image": ("Hãy chọn một ảnh JPEG hoặc PNG dưới 8 MB.",
                                 "Choose a JPEG or PNG photo under 8 MB."),
    "privacy.purpose.photo": ("Ảnh nhận diện", "Photo for identification"),
    "privacy.purpose_text.photo": (
        "Chụp và lưu một ảnh để cơ sở điều trị nhận ra người này; không in trên thẻ, không"
        " có trong báo cáo; xóa ngay khi rút lại đồng ý.",
        "A photo kept so that the clinic can recognise the person; not on the card, in no"
        " report; deleted as soon as the consent is withdrawn.",
    ),
}
