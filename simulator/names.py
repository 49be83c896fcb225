"""Weighted Vietnamese name lists and other small catalogues used by the simulator (NFC, proper case)."""

from __future__ import annotations

# Family names with approximate national shares (percent); northern spellings weighted up (Hoàng over
# Huỳnh, Vũ over Võ) because the default province is in the Red River delta.
FAMILY_NAMES: list[tuple[str, float]] = [
    ("Nguyễn", 38.4), ("Trần", 11.0), ("Lê", 9.0), ("Phạm", 6.8), ("Hoàng", 4.4), ("Huỳnh", 0.6),
    ("Phan", 3.5), ("Vũ", 3.5), ("Võ", 0.6), ("Đặng", 2.1), ("Bùi", 2.0), ("Đỗ", 1.6), ("Hồ", 1.0),
    ("Ngô", 1.4), ("Dương", 1.0), ("Lý", 0.5), ("Đinh", 0.9), ("Đào", 0.8), ("Trịnh", 0.7), ("Mai", 0.5),
    ("Trương", 0.5), ("Lương", 0.5), ("Lưu", 0.4), ("Cao", 0.4), ("Chu", 0.4), ("Hà", 0.6), ("Lâm", 0.3),
    ("Tạ", 0.3), ("Thân", 0.6), ("Nghiêm", 0.2), ("Kiều", 0.2), ("Vi", 0.2), ("Ma", 0.1), ("Nông", 0.3),
    ("La", 0.1), ("Triệu", 0.2), ("Tô", 0.3), ("Giáp", 0.3), ("Quách", 0.1), ("Tăng", 0.1), ("Lò", 0.1),
    ("Hứa", 0.1), ("Ninh", 0.1), ("Khúc", 0.1),
]

MIDDLE_MALE: list[tuple[str, float]] = [
    ("Văn", 30), ("Đức", 8), ("Minh", 8), ("Quang", 6), ("Hữu", 5), ("Công", 4), ("Xuân", 3), ("Thanh", 4),
    ("Ngọc", 3), ("Mạnh", 2), ("Tuấn", 2), ("Trọng", 2), ("Duy", 3), ("Đình", 4), ("Quốc", 3), ("Hoàng", 2),
    ("Gia", 3), ("Thành", 2), ("Anh", 2), ("Bảo", 2), ("Tiến", 1), ("Việt", 2), ("Khắc", 1), ("Hải", 1),
]
MIDDLE_FEMALE: list[tuple[str, float]] = [
    ("Thị", 40), ("Ngọc", 6), ("Thu", 4), ("Thanh", 4), ("Phương", 3), ("Minh", 3), ("Thùy", 3), ("Kim", 3),
    ("Hồng", 3), ("Mai", 2), ("Bảo", 3), ("Khánh", 3), ("Hải", 2), ("Hoài", 1), ("Diệu", 1), ("Quỳnh", 2),
    ("Thúy", 2), ("Lan", 1), ("Bích", 1), ("Mỹ", 1), ("Hà", 2), ("Tuệ", 1),
]

GIVEN_MALE: list[str] = [
    "An", "Anh", "Bảo", "Bình", "Cường", "Chiến", "Công", "Dũng", "Duy", "Dương", "Đạt", "Đức", "Định",
    "Đông", "Giang", "Hải", "Hào", "Hậu", "Hiếu", "Hiệp", "Hiển", "Hòa", "Hoàng", "Huy", "Hùng", "Hưng",
    "Khải", "Khang", "Khánh", "Khoa", "Khôi", "Kiên", "Lâm", "Lộc", "Long", "Lợi", "Mạnh", "Minh", "Nam",
    "Nghĩa", "Nguyên", "Nhân", "Nhật", "Phát", "Phong", "Phúc", "Quân", "Quang", "Quý", "Quyết", "Sơn",
    "Tài", "Tâm", "Tân", "Thái", "Thắng", "Thành", "Thịnh", "Thông", "Thuận", "Tiến", "Toàn", "Trí",
    "Trọng", "Trung", "Trường", "Tú", "Tuấn", "Tùng", "Tuệ", "Việt", "Vinh", "Vũ", "Xuân", "Huấn", "Lực",
    "Thanh", "Toản", "Tuyên", "Thụy", "Hòe", "Kiệt", "Đăng", "Tấn", "Lượng", "Phú",
    "Chính", "Ninh", "Lam", "Hoan", "Thủy",
]
GIVEN_FEMALE: list[str] = [
    "An", "Anh", "Bích", "Châu", "Chi", "Cúc", "Dung", "Duyên", "Giang", "Hà", "Hạnh", "Hằng", "Hân",
    "Hiền", "Hoa", "Hòa", "Hồng", "Huệ", "Hương", "Huyền", "Khánh", "Khuê", "Lan", "Liên", "Liễu", "Linh",
    "Loan", "Ly", "Mai", "Mến", "My", "Nga", "Ngân", "Ngọc", "Nguyệt", "Nhàn", "Nhung", "Oanh", "Phượng",
    "Phương", "Quyên", "Quỳnh", "Tâm", "Thảo", "Thơ", "Thu", "Thủy", "Thúy", "Thư", "Thương", "Trang",
    "Trâm", "Trinh", "Tuyết", "Uyên", "Vân", "Vy", "Xuân", "Yến", "Diệp", "Diệu", "Đào", "Điệp", "Gấm",
    "Hậu", "Hoài", "Kiều", "Lam", "Lệ", "Lụa", "Minh", "Nhi", "Như", "Phúc", "Quế", "Sen", "Tú", "Tuệ",
    "Tuyền", "Thắm", "Thoa", "Thùy", "Khuyên", "Ánh", "Hòe", "Xoan", "Nhài", "Quý", "Thụy", "Tiên",
]

ETHNICITIES: list[tuple[str, float]] = [
    ("Kinh", 86.0), ("Tày", 3.5), ("Nùng", 4.0), ("Sán Dìu", 1.6), ("Sán Chay", 1.7), ("Hoa", 1.0),
    ("Dao", 1.2), ("Mường", 0.4), ("Khác", 0.6),
]

# Hamlet/street words for household address lines.
ADDRESS_UNITS = ["Thôn", "Tổ dân phố", "Xóm", "Khu phố"]
