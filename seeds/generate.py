"""Generate doisoat's reference data (the CSV files in ``seeds/``, loaded by ``dbt seed`` into ``reference``).

Run from the repository root::

    uv run --frozen --group seeds python seeds/generate.py            # writes seeds/*.csv
    uv run --frozen --group seeds python seeds/generate.py --cross-check   # also re-checks every default
                                                                           # successor with the package's
                                                                           # address converter (slow: minutes)

Administrative units (``admin_communes.csv``, ``admin_communes_legacy.csv``, ``admin_provinces.csv``,
``commune_crosswalk.csv``, ``id_province_codes.csv``) come from the maintained package
``vietnamadminunits`` (dependency group ``seeds``): its ``dataset.db`` through
``vietnamadminunits.database.query`` and the 2025 converter's tables
(``vietnamadminunits.converter.converter_2025``). Nothing is typed by hand, and old codes are never joined
to new codes by number: the converter maps *keys* (province / district / ward name keys), which this script
resolves to GSO codes through each list separately.

The rule catalogue (``rules.csv``), the indicator catalogue (``indicators.csv``), the vaccines and the social
categories are the project's own reference text and live in this script.

Output is deterministic: rows sorted by their key, UTF-8 (no BOM), NFC text, ``\\n`` line ends, codes as text
with their leading zeros, booleans as ``true``/``false``.
"""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

SEEDS_DIR = Path(__file__).resolve().parent

EXPECTED_CURRENT_COMMUNES = 3321
EXPECTED_CURRENT_PROVINCES = 34
EXPECTED_LEGACY_PROVINCES = 63
# "~10,000" pre-2025 communes: the package lists 10,040 legacy units, 5 of which are island districts that had
# no commune level (and so no 5-digit commune code).
EXPECTED_LEGACY_COMMUNES_RANGE = (10_000, 10_040)

CRITERIA = ("dung", "du", "sach", "song")
SOURCES = ("population", "vaccination", "social", "civil", "children")


# --------------------------------------------------------------------------------------------------
# Catalogue text
# --------------------------------------------------------------------------------------------------

# Rules that can only fire on a record linked to a master person (or, for population rules, a citizen
# linked to a sector record).
NEEDS_LINK = frozenset(
    {
        "NAME_MISMATCH",
        "NAME_UNACCENTED",
        "BIRTH_DATE_MISMATCH",
        "SEX_MISMATCH",
        "DUPLICATE",
        "RESIDENCE_MISMATCH",
        "DECEASED_ACTIVE",
        "PAID_AFTER_DEATH",
        "DEATH_NOT_RECORDED",
        "CHILD_NOT_IN_REGISTRY",
        "LEGACY_ID_ONLY",
    }
)

# The rule catalogue of OUTPUTS.md ("The rule catalogue"), read with "How the rules read".
# (rule_code, criterion, applies_to, description_vi, description_en, action_vi, action_en)
RULES: tuple[tuple[str, str, str, str, str, str, str], ...] = (
    (
        "ID_MISSING",
        "du",
        "sector records with an ID column",
        "Bản ghi chuyên ngành không có bất kỳ số giấy tờ nào của chính đối tượng: không có số định danh cá "
        "nhân 12 số, cũng không có số CMND 9 số. Số CCCD của mẹ (cccd_me) và số định danh của vợ "
        "(so_dinh_danh_2) không được tính là số giấy tờ của đối tượng.",
        "The sector record carries no ID of any kind for its own subject: neither a 12-digit personal ID "
        "nor a 9-digit CMND. The mother's ID (cccd_me) and the wife's ID (so_dinh_danh_2) never count as "
        "the record's ID.",
        "Xác minh và cập nhật số định danh cá nhân 12 số của đối tượng từ CSDLQG về dân cư.",
        "Verify the person and record their 12-digit personal ID from the National Population Database.",
    ),
    (
        "ID_MALFORMED",
        "sach",
        "sector",
        "Có ghi số giấy tờ nhưng sau khi bỏ dấu cách và dấu chấm (không bỏ gì khác) giá trị không gồm đúng "
        "12 hoặc 9 chữ số. Giá trị 10 hoặc 11 chữ số do mất các số 0 ở đầu, nếu bổ sung số 0 cho đủ 12 số "
        "mà trùng một số định danh cá nhân trong CSDLQG về dân cư, thì được sửa và liên kết nhưng vẫn bị "
        "ghi nhận lỗi này.",
        "An ID is present but, after removing spaces and dots (and nothing else), it is neither 12 nor 9 "
        "digits. A 10- or 11-digit value that, left-padded with zeros to 12 digits, is a personal ID in the "
        "master (a 12-digit ID that lost its leading zeros) is repaired and linked, but still gets this "
        "finding.",
        "Sửa số giấy tờ về đúng cấu trúc: số định danh cá nhân 12 số (giữ nguyên các số 0 ở đầu, lưu dạng "
        "chuỗi) hoặc số CMND 9 số.",
        "Correct the ID to a well-formed value: the 12-digit personal ID (keep its leading zeros, store it "
        "as text) or the 9-digit CMND.",
    ),
    (
        "ID_UNKNOWN",
        "dung",
        "sector",
        "Số định danh cá nhân 12 số hoặc số CMND 9 số đúng cấu trúc nhưng không có công dân nào trong "
        "CSDLQG về dân cư mang số đó (kể cả số CMND cũ của công dân).",
        "A well-formed 12-digit or 9-digit ID that no person in the master has, neither as personal ID nor "
        "as old 9-digit CMND (legacy_id9).",
        "Đối chiếu giấy tờ gốc của đối tượng, sửa số ghi sai; nếu giấy tờ đúng, đề nghị Công an xã/phường xác minh.",
        "Check the person's original document and correct a mistyped number; if the document is right, ask "
        "the commune police to verify it.",
    ),
    (
        "ID_CONFLICT",
        "dung",
        "sector, population",
        "Số định danh cá nhân 12 số (kể cả số đã được sửa do mất số 0 ở đầu) mâu thuẫn với chính bản ghi: "
        "chữ số thứ 4 (mã giới tính và thế kỷ sinh) không khớp giới tính hoặc thế kỷ năm sinh, chữ số thứ "
        "5–6 không khớp hai số cuối của năm sinh, hoặc 3 chữ số đầu không phải mã tỉnh của 63 tỉnh, thành "
        "phố trước năm 2025. Ngày sinh không hợp lệ không được dùng để so sánh.",
        "A 12-digit personal ID (repaired ones included) contradicts the record itself: its 4th digit (sex "
        "and century of birth) disagrees with the record's sex or century of birth, its 5th-6th digits "
        "disagree with the last two digits of the birth year, or its first three digits are not one of the "
        "63 pre-2025 province codes. An invalid birth date is not used for the comparison.",
        "Đối chiếu số định danh cá nhân với thẻ căn cước và giấy khai sinh; sửa số định danh, ngày sinh "
        "hoặc giới tính ghi sai.",
        "Compare the personal ID with the ID card and birth certificate; correct whichever of ID, birth "
        "date or sex was recorded wrongly.",
    ),
    (
        "LEGACY_ID_ONLY",
        "du",
        "sector",
        "Bản ghi chỉ có số CMND 9 số và đã liên kết được với công dân qua số CMND cũ lưu trong CSDLQG về "
        "dân cư; cần ghi bổ sung số định danh cá nhân 12 số vào CSDL chuyên ngành.",
        "Only a 9-digit CMND was given, and it links to a person through the master's old CMND number "
        "(legacy_id9); the 12-digit personal ID should be written back to the sector database.",
        "Cập nhật số định danh cá nhân 12 số (theo danh sách đề xuất làm giàu dữ liệu) thay cho số CMND 9 số.",
        "Record the 12-digit personal ID (from the enrichment list) in place of the 9-digit CMND.",
    ),
    (
        "NAME_MISMATCH",
        "dung",
        "linked sector records",
        "Họ tên trên bản ghi đã liên kết khác họ tên trong CSDLQG về dân cư sau khi chuẩn hóa (Unicode NFC, "
        "thống nhất một kiểu đặt dấu thanh, không phân biệt chữ hoa, chữ thường, một dấu cách giữa các từ). "
        "Chỉ so sánh khi cả hai bên đều có họ tên.",
        "On a linked record, the normalised name differs from the master's (normalised: Unicode NFC, one "
        "tone-mark convention, case-folded, single spaces). Compared only when both sides have a name.",
        "Đối chiếu giấy tờ, sửa họ tên theo CSDLQG về dân cư; nếu CSDLQG ghi sai, đề nghị Công an điều chỉnh.",
        "Check the documents and correct the name to the master's; if the master is wrong, ask the police "
        "to correct it.",
    ),
    (
        "NAME_UNACCENTED",
        "sach",
        "linked sector records",
        "Họ tên trên bản ghi đã liên kết không có dấu tiếng Việt (chữ đ cũng tính là có dấu) và chỉ trùng "
        "với họ tên trong CSDLQG về dân cư khi bỏ dấu. Họ tên không dấu mà trùng nguyên văn với CSDLQG thì "
        "không bị ghi nhận; lỗi này không ghi đồng thời với NAME_MISMATCH.",
        "On a linked record, the name has no Vietnamese diacritic (đ counts as one) and equals the master's "
        "name only when accents are ignored. A name without diacritics that equals the master's as it "
        "stands is no finding; never reported together with NAME_MISMATCH.",
        "Nhập lại họ tên có đầy đủ dấu tiếng Việt theo CSDLQG về dân cư.",
        "Re-enter the name with full Vietnamese diacritics as in the master.",
    ),
    (
        "BIRTH_DATE_MISMATCH",
        "dung",
        "linked sector records",
        "Ngày sinh trên bản ghi đã liên kết khác ngày sinh trong CSDLQG về dân cư, so sánh theo độ chính "
        "xác của CSDLQG (CSDLQG chỉ có năm thì so năm; có năm và tháng thì so năm, tháng). Ngày sinh trống "
        "hoặc không hợp lệ không được so sánh.",
        "On a linked record, the birth date differs from the master's, compared at the master's precision "
        "(a year-only master date compares years, a year-month one years and months). An empty or invalid "
        "date compares nothing.",
        "Đối chiếu giấy khai sinh, sửa ngày sinh theo CSDLQG về dân cư; nếu CSDLQG ghi sai, đề nghị Công an "
        "điều chỉnh.",
        "Check the birth certificate and correct the birth date to the master's; if the master is wrong, "
        "ask the police to correct it.",
    ),
    (
        "SEX_MISMATCH",
        "dung",
        "linked sector records",
        "Giới tính trên bản ghi đã liên kết khác giới tính trong CSDLQG về dân cư. Chỉ so sánh khi cả hai "
        "bên đều có giới tính.",
        "On a linked record, the sex differs from the master's. Compared only when both sides have a value.",
        "Xác minh và sửa giới tính theo CSDLQG về dân cư.",
        "Verify and correct the sex to the master's.",
    ),
    (
        "NOT_LINKED",
        "du",
        "sector",
        "Không liên kết được bản ghi với công dân nào trong CSDLQG về dân cư, dù qua số định danh cá nhân, "
        "số CMND 9 số hay so khớp theo họ tên, ngày sinh, giới tính, nơi cư trú, họ tên mẹ.",
        "No master person could be linked to the record, neither by personal ID, by 9-digit CMND, nor by "
        "probabilistic matching on name, birth date, sex, place and mother.",
        "Xác minh nhân thân đối tượng tại xã/phường, bổ sung số định danh cá nhân; nếu bản ghi có trong "
        "danh sách chờ duyệt, quyết định ghép hay không.",
        "Verify the person's identity in the commune and add their personal ID; if the record is in the "
        "review queue, decide the candidate match there.",
    ),
    (
        "DUPLICATE",
        "sach",
        "vaccination, social, children; civil births",
        "Hai bản ghi trở lên của cùng một nguồn liên kết với cùng một công dân, bất kể phương thức liên "
        "kết; mọi bản ghi trong nhóm đều bị ghi nhận. Với hộ tịch chỉ xét đăng ký khai sinh (KHAI_SINH).",
        "Two or more records of one source link to the same person, whatever the link method; every record "
        "of the group gets the finding. For the civil registry only births (KHAI_SINH) count.",
        "Rà soát nhóm bản ghi trùng, giữ một bản ghi đúng, hợp nhất thông tin và hủy các bản ghi còn lại.",
        "Review the duplicate group, keep one correct record, merge its data and retire the others.",
    ),
    (
        "COMMUNE_UNKNOWN",
        "sach",
        "sector",
        "Mã xã/phường không có trong danh mục: cột mã mới có giá trị nhưng không phải mã xã/phường hiện "
        "hành (của bất kỳ tỉnh nào); hoặc cột mã mới trống và cột mã cũ có giá trị không phải mã "
        "xã/phường/thị trấn trước năm 2025. Với hộ tịch: nơi đăng ký (noi_dang_ky) không phải mã xã/phường "
        "theo danh mục có hiệu lực vào ngày đăng ký (mã cũ trước 01/7/2025, mã mới từ ngày đó). Khi đó bản "
        "ghi không xác định được xã/phường.",
        "The commune code is not in the list: the current-code column holds a code that is not a current "
        "commune (of any province); or it is empty and the old-code column holds a code that is not a "
        "pre-2025 commune. Civil registry: noi_dang_ky is not a commune of the list in force on "
        "ngay_dang_ky (pre-2025 codes before 1 July 2025, current codes from then on). The record's commune "
        "is then unknown.",
        "Xác định và cập nhật mã xã/phường hiện hành theo danh mục đơn vị hành chính sau sắp xếp năm 2025.",
        "Determine the commune and record its current code from the post-2025 list of administrative units.",
    ),
    (
        "COMMUNE_OUTDATED",
        "song",
        "vaccination, social, children",
        "Cột mã mới trống, bản ghi chỉ có mã xã/phường/thị trấn cũ (trước 01/7/2025) hợp lệ; xã/phường hiện "
        "hành được suy ra qua bảng chuyển đổi (xã cũ bị chia cho nhiều xã/phường mới thì lấy xã/phường kế "
        "thừa mặc định). Không áp dụng cho hộ tịch.",
        "The current-code column is empty and the old-code column holds a valid pre-2025 commune code; the "
        "current commune is derived through the crosswalk (a divided commune maps to its default "
        "successor). Not applied to the civil registry.",
        "Cập nhật mã xã/phường mới sau sắp xếp đơn vị hành chính; xã cũ bị chia thì xác minh xã/phường nơi "
        "đối tượng đang ở.",
        "Record the current (post-2025) commune code; for a divided old commune, verify which new commune "
        "the person lives in.",
    ),
    (
        "RESIDENCE_MISMATCH",
        "song",
        "vaccination, social, children",
        "Xã/phường hiện hành của bản ghi (kể cả sau khi quy đổi mã cũ) khác xã/phường nơi thường trú của "
        "công dân trong CSDLQG về dân cư. Chỉ so sánh khi cả hai bên đều xác định được xã/phường; không áp "
        "dụng cho hộ tịch.",
        "The record's current commune (old codes mapped through the crosswalk) differs from the master's "
        "current commune of permanent residence. Compared only when both sides have a commune; not applied "
        "to the civil registry.",
        "Xác minh nơi cư trú hiện tại; cập nhật xã/phường theo CSDLQG về dân cư hoặc đề nghị Công an cập "
        "nhật thông tin cư trú.",
        "Verify where the person lives now; update the commune to the master's, or ask the police to update "
        "the residence record.",
    ),
    (
        "DECEASED_ACTIVE",
        "song",
        "social (STATUS=ACTIVE), children",
        "Đối tượng bảo trợ xã hội đang hưởng (STATUS = ACTIVE) hoặc hồ sơ trẻ em liên kết với công dân đã "
        "chết (DECEASED) hoặc đã thôi quốc tịch Việt Nam (RENOUNCED) trong CSDLQG về dân cư.",
        "An active social-protection beneficiary (STATUS = ACTIVE) or a child record is linked to a person "
        "who is DECEASED or has RENOUNCED Vietnamese nationality in the master.",
        "Xác minh tình trạng của đối tượng; nếu đúng đã chết hoặc thôi quốc tịch thì dừng hưởng chế độ, đóng hồ sơ.",
        "Verify the person's status; if they have died or renounced nationality, stop the benefit and close "
        "the record.",
    ),
    (
        "PAID_AFTER_DEATH",
        "song",
        "social",
        "Có khoản chi trả (PAYMENT) cho đối tượng bảo trợ xã hội với ngày chi (PAID_AT) sau ngày chết của "
        "công dân được liên kết trong CSDLQG về dân cư, bất kể trạng thái hưởng (STATUS). Khoản chi đúng "
        "ngày chết không bị ghi nhận.",
        "A payment (PAYMENT) to the beneficiary was paid (PAID_AT) strictly after the linked person's death "
        "date in the master, whatever the beneficiary's STATUS. A payment on the day of death is no finding.",
        "Dừng chi trả ngay và lập thủ tục thu hồi số tiền đã chi sau ngày chết.",
        "Stop payment at once and start recovering the amounts paid after the death.",
    ),
    (
        "FIELD_MISSING",
        "du",
        "sector, population",
        "Thiếu trường bắt buộc. Bản ghi chuyên ngành: họ tên, ngày sinh, giới tính, và mã xã/phường ở ít "
        "nhất một trong hai cột mã mới, mã cũ (hộ tịch: nơi đăng ký); bảo trợ xã hội: số tài khoản "
        "(BANK_ACCOUNT) khi chi trả qua tài khoản (PAY_METHOD = ACCOUNT). CSDLQG về dân cư: giới tính, dân "
        "tộc, ngày sinh, mã xã/phường nơi thường trú. Ngày không hợp lệ không bị coi là trống.",
        "A required field is empty. Sector records: name, birth date, sex, and a commune in either code "
        "column (civil: noi_dang_ky); social: BANK_ACCOUNT when PAY_METHOD = ACCOUNT. Population: sex, "
        "ethnicity, birth_date, commune_code. An invalid date is not empty.",
        "Bổ sung đầy đủ các trường bắt buộc còn thiếu theo giấy tờ của đối tượng.",
        "Fill in the missing required fields from the person's documents.",
    ),
    (
        "DATE_INVALID",
        "sach",
        "sector",
        "Ngày tháng không đọc được (sai định dạng hoặc không có thật) hoặc sau ngày đối soát; với tiêm "
        "chủng: mũi tiêm có ngày tiêm trước ngày sinh (tiêm đúng ngày sinh là hợp lệ). Ngày không hợp lệ "
        "không được dùng cho các phép so sánh (ngày sinh, số định danh, tuổi).",
        "A date cannot be parsed (wrong format or not a real date) or is after the as-of date; vaccination: "
        "a dose dated before birth (a dose on the birth day is valid). An invalid date is not used by any "
        "comparison (birth date, ID, ages). Timestamps compare with the as-of date by their date.",
        "Kiểm tra sổ sách, giấy tờ gốc và nhập lại ngày tháng đúng.",
        "Check the original register or documents and re-enter the correct date.",
    ),
    (
        "NOT_DIGITISED",
        "du",
        "civil",
        "Dữ liệu hộ tịch chưa được số hóa đầy đủ: trạng thái số hóa (trang_thai_so_hoa) khác DA_SO_HOA "
        "(DA_NHAP: đã nhập nhưng chưa kiểm tra; CHUA_SO_HOA: mới có sổ giấy).",
        "The civil-status entry is not fully digitised: trang_thai_so_hoa is not DA_SO_HOA (DA_NHAP: typed "
        "in but not checked; CHUA_SO_HOA: paper only).",
        "Số hóa sổ hộ tịch gốc: nhập, kiểm tra đầy đủ thông tin và chuyển trạng thái sang đã số hóa (DA_SO_HOA).",
        "Digitise the paper register entry: type in and check all its data, then set it to DA_SO_HOA.",
    ),
    (
        "STALE",
        "song",
        "children",
        "Hồ sơ trẻ em chưa từng được rà soát (ngay_ra_soat trống) hoặc lần rà soát gần nhất cách ngày đối "
        "soát hơn 365 ngày.",
        "The child record was never reviewed (ngay_ra_soat empty) or was last reviewed more than 365 days "
        "before the as-of date.",
        "Rà soát, cập nhật hồ sơ trẻ em và ghi ngày rà soát.",
        "Review and update the child record, and record the review date.",
    ),
    (
        "HOUSEHOLD_NO_HEAD",
        "sach",
        "population (household)",
        "Hộ gia đình không có thành viên nào là chủ hộ (quan hệ với chủ hộ = HEAD), xét trên tất cả thành "
        "viên của hộ. Lỗi ghi theo mã hộ.",
        "No member of the household is its head (relation_to_head = HEAD), counting all members. Keyed by "
        "the household ID.",
        "Xác định chủ hộ và cập nhật quan hệ với chủ hộ của các thành viên trong CSDLQG về dân cư.",
        "Determine the head of household and update the members' relation to the head in the master.",
    ),
    (
        "HOUSEHOLD_MULTI_HEAD",
        "sach",
        "population (household)",
        "Hộ gia đình có từ hai thành viên trở lên là chủ hộ (quan hệ với chủ hộ = HEAD), xét trên tất cả "
        "thành viên của hộ. Lỗi ghi theo mã hộ.",
        "More than one member of the household is its head (relation_to_head = HEAD), counting all members. "
        "Keyed by the household ID.",
        "Xác minh, giữ một chủ hộ duy nhất và sửa quan hệ với chủ hộ của các thành viên còn lại.",
        "Verify, keep a single head of household and correct the other members' relation to the head.",
    ),
    (
        "LEGACY_ID_MALFORMED",
        "sach",
        "population",
        "Công dân có số CMND cũ (legacy_id9) nhưng số đó không gồm đúng 9 chữ số.",
        "The citizen's old CMND number (legacy_id9) is present but is not exactly 9 digits.",
        "Đối chiếu hồ sơ CMND gốc, sửa hoặc xóa số CMND 9 số sai cấu trúc.",
        "Check the original CMND file and correct or remove the malformed 9-digit number.",
    ),
    (
        "CHILD_NO_RESIDENCE",
        "du",
        "population",
        "Công dân còn sống (ALIVE) dưới 16 tuổi chưa có mã xã/phường nơi thường trú. Tuổi tính tròn năm tại "
        "ngày đối soát, chỉ từ ngày sinh đầy đủ; trẻ sinh đúng 16 năm trước ngày đối soát không còn dưới 16 "
        "tuổi.",
        "An ALIVE citizen under 16 has no commune of permanent residence (commune_code). Age in whole years "
        "at the as-of date, from full birth dates only; a child born exactly 16 years before the as-of date "
        "is not under 16.",
        "Xác định nơi thường trú của trẻ (theo nơi thường trú của cha, mẹ) và đăng ký thường trú.",
        "Determine the child's permanent residence (from the parents') and register it.",
    ),
    (
        "DEATH_NOT_RECORDED",
        "song",
        "population",
        "Có đăng ký khai tử (KHAI_TU) trong CSDL hộ tịch liên kết với công dân nhưng CSDLQG về dân cư vẫn "
        "ghi trạng thái còn sống (ALIVE).",
        "A civil death entry (KHAI_TU) is linked to the person but the master still says ALIVE.",
        "Cập nhật trạng thái đã chết và ngày chết vào CSDLQG về dân cư theo trích lục khai tử.",
        "Record the death and its date in the master, from the death registration.",
    ),
    (
        "CHILD_NOT_IN_REGISTRY",
        "du",
        "population",
        "Công dân còn sống (ALIVE) dưới 16 tuổi không có hồ sơ trẻ em nào trong CSDL trẻ em liên kết với "
        "mình. Tuổi tính tròn năm tại ngày đối soát, chỉ từ ngày sinh đầy đủ.",
        "An ALIVE citizen under 16 has no linked child record in the child registry. Age in whole years at "
        "the as-of date, from full birth dates only.",
        "Lập hoặc bổ sung hồ sơ trẻ em cho trẻ tại xã/phường nơi cư trú.",
        "Open (or complete) a child record for the child in their commune of residence.",
    ),
    # Added for issue 8 (OUTPUTS.md: "more may be added").
    (
        "ROW_REJECTED",
        "sach",
        "sector, population",
        "Dòng dữ liệu nguồn không nạp được khi trích xuất: khoá chính để trống, bị trùng (từ lần xuất hiện thứ "
        "hai) hoặc không đúng kiểu dữ liệu. Bản ghi vẫn được tính trong đối soát nhưng không kiểm tra được quy "
        "tắc nào khác; lý do cụ thể ghi trong bảng cách ly (raw._quarantine).",
        "The source row could not be loaded at extraction: its primary key is empty, repeated (from the second "
        "occurrence on) or not of its type. The record still counts in the reconciliation, but no other rule "
        "could check it; the quarantine (raw._quarantine) gives the reason.",
        "Sửa khoá chính của bản ghi tại hệ thống nguồn (điền khoá, hoặc gộp/xoá bản ghi trùng khoá) để đêm sau "
        "bản ghi được nạp và đối soát.",
        "Fix the record's key at the source (fill it in, or merge or remove the records sharing it) so that "
        "the next night loads and reconciles it.",
    ),
    (
        "PERSONAL_ID_MALFORMED",
        "sach",
        "population",
        "Số định danh cá nhân (personal_id) của công dân trong CSDLQG về dân cư không phải là 12 chữ số. Số này "
        "không được giải mã (không kiểm tra ID_CONFLICT) và không bản ghi chuyên ngành nào được liên kết với nó.",
        "The citizen's personal_id in the master is not 12 digits. It is not decoded (no ID_CONFLICT check) "
        "and no sector record is linked to it.",
        "Đề nghị cơ quan Công an kiểm tra, chỉnh sửa số định danh cá nhân của công dân trong CSDLQG về dân cư.",
        "Ask the police to check and correct the citizen's personal ID in the master.",
    ),
)

SOURCE_NAMES: dict[str, tuple[str, str]] = {
    "population": ("Dân cư", "Population"),
    "vaccination": ("Tiêm chủng", "Vaccination"),
    "social": ("Bảo trợ xã hội", "Social protection"),
    "civil": ("Hộ tịch", "Civil status"),
    "children": ("Trẻ em", "Children"),
}
CRITERION_NAMES: dict[str, tuple[str, str]] = {
    "dung": ("đúng", "correct"),
    "du": ("đủ", "complete"),
    "sach": ("sạch", "clean"),
    "song": ("sống", "live"),
}

# Indicator targets, in percent. These are the PROJECT'S DEFAULT TARGETS, configurable: not figures set by
# any decree (the only national figure is 100% of administrative dossiers tagged with the personal ID). A
# province sets its own by editing these values (or seeds/indicators.csv directly) and re-seeding.
DEFAULT_CRITERION_TARGET = 95
# (indicator_code, source, name_vi, name_en, target)
NAMED_INDICATORS: tuple[tuple[str, str, str, str, int], ...] = (
    (
        "children_reviewed",
        "children",
        "Tỷ lệ hồ sơ trẻ em đã được rà soát, đối soát với CSDLQG về dân cư",
        "Child records reviewed and reconciled with the National Population Database",
        95,
    ),
    (
        "children_with_id_code",
        "children",
        "Tỷ lệ hồ sơ trẻ em đã đối soát có mã định danh cá nhân đúng",
        "Reconciled child records carrying the child's correct personal ID code",
        100,
    ),
    (
        "vaccination_clean",
        "vaccination",
        "Tỷ lệ dữ liệu tiêm chủng đã được làm sạch",
        "Vaccination subjects cleaned (reconciled)",
        95,
    ),
    (
        "vaccine_passports_signed",
        "vaccination",
        "Tỷ lệ đối tượng tiêm chủng đã được ký xác nhận hộ chiếu vắc xin",
        "Vaccination subjects with a signed vaccine-passport confirmation",
        90,
    ),
    (
        "civil_digitised",
        "civil",
        "Tỷ lệ dữ liệu hộ tịch đã được số hóa",
        "Civil-status entries digitised",
        100,
    ),
    (
        "social_account_payment",
        "social",
        "Tỷ lệ đối tượng bảo trợ xã hội đang hưởng được chi trả qua tài khoản",
        "Active social-protection beneficiaries paid to a bank account",
        80,
    ),
    (
        "social_reconciled",
        "social",
        "Tỷ lệ đối tượng bảo trợ xã hội đã được đối soát",
        "Social-protection beneficiaries reconciled",
        95,
    ),
    (
        "population_clean",
        "population",
        "Tỷ lệ công dân không có sai sót dữ liệu",
        "Citizens with no data finding",
        95,
    ),
)

# Vaccines of the Expanded Programme on Immunisation (Tiêm chủng mở rộng) plus COVID-19.
VACCINES: tuple[tuple[str, str, str], ...] = (
    ("BCG", "Vắc xin phòng lao (BCG)", "Tuberculosis vaccine (BCG)"),
    ("VGB", "Vắc xin viêm gan B (liều sơ sinh)", "Hepatitis B vaccine (birth dose)"),
    (
        "DPT-VGB-Hib",
        "Vắc xin 5 trong 1 phòng bạch hầu, ho gà, uốn ván, viêm gan B, viêm phổi/viêm màng não mủ do Hib",
        "Pentavalent vaccine: diphtheria, pertussis, tetanus, hepatitis B, Haemophilus influenzae type b",
    ),
    ("OPV", "Vắc xin bại liệt uống (OPV)", "Oral polio vaccine (OPV)"),
    ("IPV", "Vắc xin bại liệt tiêm (IPV)", "Inactivated polio vaccine (IPV)"),
    ("SOI", "Vắc xin sởi", "Measles vaccine"),
    ("MR", "Vắc xin sởi – rubella (MR)", "Measles-rubella vaccine (MR)"),
    ("DPT", "Vắc xin bạch hầu, ho gà, uốn ván (DPT)", "Diphtheria, pertussis and tetanus vaccine (DPT)"),
    ("VNNB", "Vắc xin viêm não Nhật Bản", "Japanese encephalitis vaccine"),
    ("UV", "Vắc xin uốn ván (phụ nữ có thai, phụ nữ tuổi sinh đẻ)", "Tetanus toxoid (pregnant women)"),
    ("ROTA", "Vắc xin phòng tiêu chảy do vi rút Rota", "Rotavirus vaccine"),
    ("COVID-19", "Vắc xin phòng COVID-19", "COVID-19 vaccine"),
)

SOCIAL_CATEGORIES: tuple[tuple[str, str, str], ...] = (
    ("NCT80", "Người cao tuổi từ đủ 80 tuổi trở lên", "Elderly people aged 80 and over"),
    ("KT", "Người khuyết tật", "People with disabilities"),
    ("TMC", "Trẻ em mồ côi", "Orphaned children"),
    ("NCC", "Người có công với cách mạng", "People with meritorious services to the revolution"),
    ("HN", "Người thuộc hộ nghèo", "Members of poor households"),
)


# --------------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------------


def nfc(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return unicodedata.normalize("NFC", str(value)).strip()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    out = [[nfc(v) for v in row] for row in rows]
    for row in out:
        if len(row) != len(header):
            raise ValueError(f"{path.name}: row {row!r} does not match header {header!r}")
    out.sort()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(out)
    return len(out)


class SeedError(RuntimeError):
    pass


def check(condition: bool, message: str) -> None:
    if not condition:
        raise SeedError(message)


# --------------------------------------------------------------------------------------------------
# Administrative units
# --------------------------------------------------------------------------------------------------


def legacy_key(row: dict) -> str:
    """The converter's key for a pre-2025 unit: 'provincekey_districtkey_wardkey' (ward part empty for the
    island districts that had no communes)."""
    return f"{row['provinceKey']}_{row['districtKey']}_{row['wardKey'] or ''}"


def build_admin_units(out_dir: Path, cross_check: bool) -> dict[str, int]:
    from vietnamadminunits.converter import converter_2025
    from vietnamadminunits.database import query

    current = query("SELECT provinceCode, province, provinceKey, wardCode, ward, wardType, wardKey FROM admin_units")
    legacy = query(
        "SELECT provinceCode, province, provinceKey, districtCode, district, districtKey, wardCode, ward, "
        "wardType, wardKey FROM admin_units_legacy"
    )

    # -- current list ------------------------------------------------------------------------------
    check(len(current) == EXPECTED_CURRENT_COMMUNES, f"current communes: {len(current)}")
    codes = Counter(r["wardCode"] for r in current)
    check(all(len(c) == 5 and c.isdigit() for c in codes), "current commune codes are not 5 digits")
    check(max(codes.values()) == 1, "duplicated current commune code")
    # Ward keys repeat across provinces (and the package keeps diacritics in the keys it flags
    # wardKeyDuplicated); a (province key, ward key) pair must name exactly one commune.
    current_by_key: dict[tuple[str, str], str] = {}
    for r in current:
        k = (r["provinceKey"], r["wardKey"])
        check(k not in current_by_key, f"ambiguous current ward key {k}")
        current_by_key[k] = r["wardCode"]
    provinces = {(r["provinceCode"], nfc(r["province"])) for r in current}
    province_codes = {c for c, _ in provinces}
    check(len(provinces) == len(province_codes) == EXPECTED_CURRENT_PROVINCES, f"provinces: {len(provinces)}")
    check(all(len(c) == 2 and c.isdigit() for c in province_codes), "province codes are not 2 digits")

    # -- legacy list -------------------------------------------------------------------------------
    legacy_by_key: dict[str, dict] = {}
    for r in legacy:
        k = legacy_key(r)
        check(k not in legacy_by_key, f"ambiguous legacy key {k}")
        legacy_by_key[k] = r
    no_code = sorted(k for k, r in legacy_by_key.items() if not r["wardCode"])
    legacy_communes = [r for r in legacy if r["wardCode"]]
    lcodes = Counter(r["wardCode"] for r in legacy_communes)
    check(max(lcodes.values()) == 1, "duplicated legacy commune code")
    check(all(len(c) == 5 and c.isdigit() for c in lcodes), "legacy commune codes are not 5 digits")
    check(all(len(r["districtCode"]) == 3 for r in legacy_communes), "legacy district codes are not 3 digits")
    lo, hi = EXPECTED_LEGACY_COMMUNES_RANGE
    check(lo <= len(legacy_communes) <= hi, f"legacy communes: {len(legacy_communes)}")
    legacy_provinces = {(r["provinceCode"], nfc(r["province"])) for r in legacy}
    check(
        len(legacy_provinces) == len({c for c, _ in legacy_provinces}) == EXPECTED_LEGACY_PROVINCES,
        f"legacy provinces: {len(legacy_provinces)}",
    )

    # -- crosswalk from the package's 2025 converter -----------------------------------------------
    dict_province = converter_2025.DICT_PROVINCE
    not_divided = converter_2025.DICT_PROVINCE_WARD_NO_DIVIDED
    divided = converter_2025.DICT_PROVINCE_WARD_DIVIDED
    old_to_new_province = {old: new for new, olds in dict_province.items() for old in olds}

    # old key -> list of (new province key, new ward key, is_default)
    successors: dict[str, list[tuple[str, str, bool]]] = defaultdict(list)
    for new_pk, wards in not_divided.items():
        for new_wk, old_keys in wards.items():
            for old_key in old_keys:
                successors[old_key].append((new_pk, new_wk, True))
    for new_pk, olds in divided.items():
        for old_key, news in olds.items():
            for n in news:
                successors[old_key].append((new_pk, n["newWardKey"], bool(n["isDefaultNewWard"])))

    problems: list[str] = []
    crosswalk: dict[tuple[str, str], bool] = {}
    for old_key, succ in successors.items():
        r = legacy_by_key.get(old_key)
        if r is None:
            problems.append(f"converter key not in the legacy list: {old_key}")
            continue
        if old_to_new_province.get(r["provinceKey"]) not in {pk for pk, _, _ in succ}:
            problems.append(f"successor outside the old province's new province: {old_key}")
        if len(succ) != len({(pk, wk) for pk, wk, _ in succ}):
            problems.append(f"{old_key} listed twice (divided and undivided, or repeated successor)")
        if sum(d for _, _, d in succ) != 1:
            problems.append(f"{old_key} has {sum(d for _, _, d in succ)} default successors")
        if not r["wardCode"]:
            continue  # island district without communes: reported below, no commune code to map
        for new_pk, new_wk, is_default in succ:
            new_code = current_by_key.get((new_pk, new_wk))
            if new_code is None:
                problems.append(f"successor key not in the current list: {new_pk}/{new_wk}")
                continue
            crosswalk[(r["wardCode"], new_code)] = is_default
    check(not problems, "converter inconsistencies:\n  " + "\n  ".join(problems))

    unmapped = sorted((r["wardCode"], legacy_key(r)) for r in legacy_communes if legacy_key(r) not in successors)
    mapped_old = {o for o, _ in crosswalk}
    defaults = Counter(o for (o, _), d in crosswalk.items() if d)
    check(all(defaults[o] == 1 for o in mapped_old), "an old code without exactly one default successor")
    check(
        {n for _, n in crosswalk} <= set(codes) and mapped_old <= set(lcodes),
        "crosswalk code outside the lists",
    )

    # -- write -------------------------------------------------------------------------------------
    counts = {}
    counts["admin_communes.csv"] = write_csv(
        out_dir / "admin_communes.csv",
        ["commune_code", "commune_name", "commune_type", "province_code", "province_name"],
        [(r["wardCode"], r["ward"], r["wardType"], r["provinceCode"], r["province"]) for r in current],
    )
    counts["admin_communes_legacy.csv"] = write_csv(
        out_dir / "admin_communes_legacy.csv",
        [
            "commune_code",
            "commune_name",
            "commune_type",
            "district_code",
            "district_name",
            "province_code",
            "province_name",
        ],
        [
            (
                r["wardCode"],
                r["ward"],
                r["wardType"],
                r["districtCode"],
                r["district"],
                r["provinceCode"],
                r["province"],
            )
            for r in legacy_communes
        ],
    )
    counts["admin_provinces.csv"] = write_csv(
        out_dir / "admin_provinces.csv", ["province_code", "province_name"], sorted(provinces)
    )
    counts["commune_crosswalk.csv"] = write_csv(
        out_dir / "commune_crosswalk.csv",
        ["old_commune_code", "new_commune_code", "is_default"],
        [(o, n, d) for (o, n), d in crosswalk.items()],
    )
    counts["id_province_codes.csv"] = write_csv(
        out_dir / "id_province_codes.csv",
        ["id_prefix", "province_name"],
        [(code.zfill(3), name) for code, name in legacy_provinces],
    )

    per_old = Counter(o for o, _ in crosswalk)
    n_divided = sum(1 for n in per_old.values() if n > 1)
    print(f"current communes      : {len(current):>6}  (expected {EXPECTED_CURRENT_COMMUNES})")
    print(f"current provinces     : {len(provinces):>6}  (expected {EXPECTED_CURRENT_PROVINCES})")
    print(f"legacy units (package): {len(legacy):>6}")
    print(f"legacy communes       : {len(legacy_communes):>6}  (with a 5-digit commune code)")
    print(f"legacy provinces      : {len(legacy_provinces):>6}  (expected {EXPECTED_LEGACY_PROVINCES})")
    print(
        f"crosswalk             : {len(crosswalk):>6} rows, {len(mapped_old)} old codes "
        f"({n_divided} divided between several new communes)"
    )
    print(
        f"legacy units left out of the crosswalk: {len(no_code) + len(unmapped)} "
        f"({len(no_code)} island districts with no commune level and no commune code, "
        f"{len(unmapped)} communes the converter does not know)"
    )
    for k in no_code:
        r = legacy_by_key[k]
        succ = ", ".join(f"{current_by_key[(pk, wk)]}" for pk, wk, _ in successors.get(k, []))
        print(f"  - no commune code: {nfc(r['district'])} ({r['districtCode']}), {nfc(r['province'])} -> {succ}")
    for code, k in unmapped:
        print(f"  - not in the converter: {code} {k}")

    if cross_check:
        cross_check_defaults(legacy_communes, crosswalk)
    return counts


def cross_check_defaults(legacy_communes: list[dict], crosswalk: dict[tuple[str, str], bool]) -> None:
    """Re-derive each old commune's successor through the package's public address converter (which parses the
    address text, then applies the same tables) and report disagreements with the crosswalk's default."""
    from vietnamadminunits.converter import convert_address

    default = {o: n for (o, n), d in crosswalk.items() if d}
    disagree, failed = [], []
    for r in legacy_communes:
        if r["wardCode"] not in default:
            continue
        try:
            unit = convert_address(f"{r['ward']}, {r['district']}, {r['province']}")
            got = unit.ward_code
            old = unit.OldAdminUnit.ward_code
        except Exception as exc:  # noqa: BLE001 - report, don't stop
            failed.append((r["wardCode"], repr(exc)))
            continue
        if old != r["wardCode"]:
            failed.append((r["wardCode"], f"parsed as old commune {old}"))
        elif got != default[r["wardCode"]]:
            disagree.append((r["wardCode"], default[r["wardCode"]], got))
    print(
        f"cross-check with convert_address: {len(default) - len(disagree) - len(failed)} agree, "
        f"{len(disagree)} disagree, {len(failed)} not parsed back to the same old commune"
    )
    for item in disagree[:20]:
        print("  - disagree (old, crosswalk default, convert_address):", *item)
    for item in failed[:20]:
        print("  - not parsed:", *item)


# --------------------------------------------------------------------------------------------------
# Catalogues
# --------------------------------------------------------------------------------------------------


def build_catalogues(out_dir: Path) -> dict[str, int]:
    codes = [r[0] for r in RULES]
    check(len(codes) == len(set(codes)) == 28, "rule catalogue must hold 28 distinct codes")
    check(all(r[1] in CRITERIA for r in RULES), "unknown criterion in the rule catalogue")
    check(NEEDS_LINK <= set(codes), "NEEDS_LINK names an unknown rule")
    counts = {}
    counts["rules.csv"] = write_csv(
        out_dir / "rules.csv",
        [
            "rule_code",
            "criterion",
            "applies_to",
            "needs_link",
            "description_vi",
            "description_en",
            "action_vi",
            "action_en",
        ],
        [
            (code, crit, applies, code in NEEDS_LINK, dvi, den, avi, aen)
            for code, crit, applies, dvi, den, avi, aen in RULES
        ],
    )

    indicators = [(code, vi, en, source, "", target) for code, source, vi, en, target in NAMED_INDICATORS]
    for source in SOURCES:
        s_vi, s_en = SOURCE_NAMES[source]
        for crit in CRITERIA:
            c_vi, c_en = CRITERION_NAMES[crit]
            indicators.append(
                (
                    f"{source}_{crit}",
                    f"{s_vi}: tỷ lệ bản ghi đạt tiêu chí “{c_vi}”",
                    f"{s_en}: records meeting the “{c_en}” ({c_vi}) criterion",
                    source,
                    crit,
                    DEFAULT_CRITERION_TARGET,
                )
            )
    check(len(indicators) == 28, f"indicators: {len(indicators)}")
    counts["indicators.csv"] = write_csv(
        out_dir / "indicators.csv",
        ["indicator_code", "name_vi", "name_en", "source", "criterion", "target"],
        indicators,
    )
    counts["vaccines.csv"] = write_csv(out_dir / "vaccines.csv", ["vaccine_code", "name_vi", "name_en"], VACCINES)
    counts["social_categories.csv"] = write_csv(
        out_dir / "social_categories.csv", ["category_code", "name_vi", "name_en"], SOCIAL_CATEGORIES
    )
    return counts


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=SEEDS_DIR, help="where to write (default: seeds/)")
    parser.add_argument(
        "--cross-check",
        action="store_true",
        help="also re-derive every default successor with vietnamadminunits' convert_address (slow)",
    )
    args = parser.parse_args(argv)
    try:
        counts = build_admin_units(args.out_dir, args.cross_check)
        counts.update(build_catalogues(args.out_dir))
    except SeedError as exc:
        print(f"seed generation failed: {exc}", file=sys.stderr)
        return 1
    print("written:")
    for name in sorted(counts):
        print(f"  {args.out_dir / name}: {counts[name]} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
