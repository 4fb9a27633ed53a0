"""The report pages, rendered on the server in Chinese or English: form, thanks, refusal.

Tiny on purpose (no CDN, no cookies, one inline script allowed by a per-page nonce for the
address suggestions; the form works without it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from html import escape

from hub.reports.form import MAX_AHEAD, MAX_BACK, ReportInput
from hub.reports.risk import RiskLevel, RiskRegion

TEXT: dict[str, dict[str, str]] = {
    "zh": {
        "title": "返乡/来访人员报备",
        "name": "姓名",
        "id_number": "身份证号",
        "phone": "手机号",
        "arrived": "是否已抵达",
        "arrived_yes": "已抵达",
        "arrived_no": "尚未抵达（预计）",
        "arrival_date": "抵达日期",
        "address": "居住地址",
        "address_hint": "输入街巷门牌，从提示中选择",
        "regions": "近7天到访的地区",
        "health_code": "健康码截图（可选）",
        "consent": (
            "我同意：以上信息仅用于疫情防控登记与网格员回访，身份证号仅以加密摘要保存，"
            "报备信息保存30天后删除。"
        ),
        "submit": "提交报备",
        "level.high": "高风险",
        "level.medium": "中风险",
        "level.low": "低风险",
        "thanks": "报备已提交，短信通知已发送。网格员将与您联系。",
        "refused.forged": "此报备码无效。请扫描社区张贴的报备码。",
        "refused.malformed": "此报备码无效。请扫描社区张贴的报备码。",
        "refused.expired": "此报备码已过期。请扫描社区最新张贴的报备码。",
        "form_errors": "请修改标红的项目。",
        "rate_limited": "提交过于频繁，请稍后再试。",
        "name_required": "请填写姓名（1-50个字）。",
        "id_invalid": "身份证号不正确，请检查（含校验位）。",
        "phone_invalid": "请填写11位大陆手机号。",
        "arrived_required": "请选择是否已抵达。",
        "date_invalid": "请填写日期。",
        "date_too_old": "抵达日期不能早于14天前。",
        "date_too_far": "预计抵达日期不能晚于30天后。",
        "date_arrived_future": "已抵达的日期不能是将来。",
        "date_expected_past": "预计抵达日期不能是过去。",
        "address_required": "请填写居住地址。",
        "address_unknown": "所选地址不属于本网格，请重新选择。",
        "address_pick": "请从提示中选择台账地址。",
        "regions_unknown": "请从列表中选择地区。",
        "consent_required": "请阅读并同意。",
        "photo_too_large": "图片过大（最大4 MB）。",
        "photo_unreadable": "无法读取图片。",
        "photo_no_code": "图片中未找到健康码。",
    },
    "en": {
        "title": "Arrival self-report",
        "name": "Name",
        "id_number": "ID number",
        "phone": "Mobile phone",
        "arrived": "Arrived already?",
        "arrived_yes": "Arrived",
        "arrived_no": "Not yet (expected)",
        "arrival_date": "Arrival date",
        "address": "Where you stay",
        "address_hint": "Type the lane and number, pick a suggestion",
        "regions": "Regions visited in the last 7 days",
        "health_code": "Health-code screenshot (optional)",
        "consent": (
            "I agree: this is used only for epidemic-control registration and a grid worker's "
            "follow-up; the ID number is kept only as a keyed hash; the report is deleted "
            "after 30 days."
        ),
        "submit": "Submit",
        "level.high": "high risk",
        "level.medium": "medium risk",
        "level.low": "low risk",
        "thanks": "Report received; a text message is on its way. A grid worker will contact you.",
        "refused.forged": "This report code is not valid. Scan the code posted in your community.",
        "refused.malformed": "This report code is not valid. Scan the code posted in your "
        "community.",
        "refused.expired": "This report code has expired. Scan the latest code posted.",
        "form_errors": "Please correct the fields marked in red.",
        "rate_limited": "Too many submissions; please try again later.",
        "name_required": "Enter your name (1-50 characters).",
        "id_invalid": "This ID number is not valid (check digit included).",
        "phone_invalid": "Enter an 11-digit mainland mobile number.",
        "arrived_required": "Choose whether you have arrived.",
        "date_invalid": "Enter a date.",
        "date_too_old": "The arrival date cannot be more than 14 days ago.",
        "date_too_far": "The expected date cannot be more than 30 days ahead.",
        "date_arrived_future": "An arrival already made cannot be in the future.",
        "date_expected_past": "An expected arrival cannot be in the past.",
        "address_required": "Enter where you stay.",
        "address_unknown": "That address is not in this grid; pick another.",
        "address_pick": "Pick a ledger address from the suggestions.",
        "regions_unknown": "Pick regions from the list.",
        "consent_required": "Please read and agree.",
        "photo_too_large": "The picture is too large (4 MB at most).",
        "photo_unreadable": "The picture cannot be read.",
        "photo_no_code": "No health code found in the picture.",
    },
}

STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;margin:0 auto;max-width:32rem;padding:1rem}"
    "label{display:block;margin-top:.8rem;font-weight:600}"
    "input[type=text],input[type=tel],input[type=date]{width:100%;box-sizing:border-box;"
    "padding:.5rem;font-size:1rem}fieldset{border:0;padding:0;margin:.8rem 0 0}"
    "fieldset label{font-weight:400;display:flex;gap:.4rem;margin:.2rem 0}"
    ".err{color:#b00020;font-size:.9rem}.bad input{border:2px solid #b00020}"
    "button{margin-top:1rem;width:100%;padding:.8rem;font-size:1.1rem}"
    "#sugg button{margin:.2rem 0;padding:.4rem;font-size:.95rem;text-align:left}"
    ".high{color:#b00020}.medium{color:#a15c00}"
)

SCRIPT = """
const box=document.getElementById('address'),code=document.getElementById('address_code'),
list=document.getElementById('sugg');let t;
box.addEventListener('input',()=>{code.value='';clearTimeout(t);t=setTimeout(async()=>{
if(box.value.trim().length<2){list.replaceChildren();return}
const r=await fetch(location.pathname+'/addresses?q='+encodeURIComponent(box.value));
if(!r.ok)return;const items=await r.json();
list.replaceChildren(...items.map(a=>{const b=document.createElement('button');
b.type='button';b.textContent=a.text;b.onclick=()=>{box.value=a.text;code.value=a.code;
list.replaceChildren()};return b}))},250)});
"""


@dataclass(frozen=True)
class FormView:
    """What the form shows: the values sent, errors by field, the regions, the date range."""

    raw: ReportInput
    errors: dict[str, str]
    regions: list[RiskRegion]
    today: date
    notice: str = ""


def choose_lang(query: str | None, accept_language: str | None) -> str:
    """``?lang=`` when given, else the first of zh/en in Accept-Language, else zh."""
    if query in TEXT:
        return query
    for part in (accept_language or "").split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in TEXT:
            return tag
    return "zh"


def _page(lang: str, body: str, nonce: str = "") -> str:
    text = TEXT[lang]
    script = f'<script nonce="{nonce}">{SCRIPT}</script>' if nonce else ""
    return (
        f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{text['title']}</title><style>{STYLE}</style></head>"
        f"<body><h1>{text['title']}</h1>{body}{script}</body></html>"
    )


def refused_page(lang: str, reason: str) -> str:
    """The page of a forged, malformed or expired report code."""
    message = TEXT[lang].get(f"refused.{reason}", TEXT[lang]["refused.forged"])
    return _page(lang, f'<p class="err" id="refused">{escape(message)}</p>')


def thanks_page(lang: str, risk: RiskLevel) -> str:
    """The page after a stored report."""
    return _page(lang, f'<p id="thanks" data-risk="{risk}">{escape(TEXT[lang]["thanks"])}</p>')


def form_page(lang: str, view: FormView, nonce: str) -> str:
    """The report form with ``view``'s values and an error under each bad field."""
    text, raw, errors = TEXT[lang], view.raw, view.errors

    def err(name: str) -> str:
        key = errors.get(name)
        return f'<div class="err" id="err-{name}">{escape(text[key])}</div>' if key else ""

    def field(name: str, kind: str, value: str, extra: str = "") -> str:
        bad = ' class="bad"' if name in errors else ""
        return (
            f'<div{bad}><label for="{name}">{text[name]}</label>'
            f'<input type="{kind}" id="{name}" name="{name}" value="{escape(value)}" {extra}>'
            f"{err(name)}</div>"
        )

    checked = {"yes": "", "no": ""} | {raw.arrived: "checked"}
    low, high = view.today - MAX_BACK, view.today + MAX_AHEAD
    regions = "".join(
        f'<label><input type="checkbox" name="regions" value="{escape(r.region_code)}"'
        f"{' checked' if r.region_code in raw.regions else ''}>{escape(r.name)}"
        f' <span class="{r.level}">({text["level." + r.level]})</span></label>'
        for r in view.regions
    )
    notice = f'<p class="err" id="notice">{escape(view.notice)}</p>' if view.notice else ""
    body = (
        f'{notice}<form method="post" enctype="multipart/form-data" novalidate>'
        + field("name", "text", raw.name, 'autocomplete="name" maxlength="50"')
        + field("id_number", "text", raw.id_number, 'maxlength="18" autocomplete="off"')
        + field("phone", "tel", raw.phone, 'inputmode="tel" autocomplete="tel"')
        + f"<fieldset><legend><b>{text['arrived']}</b></legend>"
        f'<label><input type="radio" name="arrived" value="yes" {checked["yes"]}>'
        f"{text['arrived_yes']}</label>"
        f'<label><input type="radio" name="arrived" value="no" {checked["no"]}>'
        f"{text['arrived_no']}</label>{err('arrived')}</fieldset>"
        + field("arrival_date", "date", raw.arrival_date, f'min="{low}" max="{high}"')
        + field("address", "text", raw.address, f'placeholder="{text["address_hint"]}"')
        + f'<input type="hidden" id="address_code" name="address_code" '
        f'value="{escape(raw.address_code)}"><div id="sugg"></div>'
        + f"<fieldset><legend><b>{text['regions']}</b></legend>{regions}{err('regions')}"
        "</fieldset>" + f'<label for="health_code">{text["health_code"]}</label>'
        '<input type="file" id="health_code" name="health_code" accept="image/*">'
        + err("health_code")
        + f'<fieldset><label><input type="checkbox" id="consent" name="consent" value="yes"'
        f"{' checked' if raw.consent else ''}>{text['consent']}</label>{err('consent')}"
        f'</fieldset><button type="submit">{text["submit"]}</button></form>'
    )
    return _page(lang, body, nonce)
