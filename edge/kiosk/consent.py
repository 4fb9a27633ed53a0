"""The consent text shown on the kiosk's screen, in Chinese and English, and its version.

Change the version whenever either text changes: the hub keeps the version each person
agreed to.
"""

from __future__ import annotations

CONSENT_VERSION = "kiosk-2026-11-v1"

CONSENT_TEXT = {
    "zh": (
        "本人同意：社区使用本人门牌地址、健康码核验结果（持码人编号与脱敏姓名）以及由本机"
        "计算的人脸特征值（不保存、不上传照片）进行住户登记，仅用于本社区出入核验。"
        "登记须经网格员审核；被拒绝的登记将删除人脸特征值。"
    ),
    "en": (
        "I agree that the community registers me as a resident using my door-plate address, "
        "the result of verifying my health pass (holder reference and masked name) and a face "
        "encoding computed by this kiosk (no photo is kept or sent), for entry checks in this "
        "community only. A grid worker reviews the registration; a rejected registration's "
        "face encoding is deleted."
    ),
}
