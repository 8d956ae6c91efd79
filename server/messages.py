"""Every user-visible failure has a stable code and a sentence in each language, here in one place."""
from __future__ import annotations

LANGUAGES = ("zh_Hans_CN", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (English, 简体中文)
    "error": ("Something went wrong.", "出错了。"),
    "not_found": ("Not found.", "未找到。"),
    "bad_request": ("The request is not valid.", "请求无效。"),
    "bad_credentials": ("Wrong user, password or PIN.", "用户、密码或PIN错误。"),
    "locked_out": ("Too many failed logins. Try again in a few minutes.", "登录失败次数过多，请几分钟后再试。"),
    "unauthorized": ("Please log in.", "请先登录。"),
    "forbidden": ("Your role may not do this.", "您的角色无权执行此操作。"),
    "insufficient_stock": ("Not enough free stock.", "可用库存不足。"),
    "invalid_quantity": ("The quantity is not valid.", "数量无效。"),
    "invalid_stock_state": ("Unknown stock state.", "未知的库存状态。"),
    "invalid_transition": ("This step is not allowed now.", "当前状态不允许此操作。"),
    "unknown_scenario": ("Unknown work type.", "未知的作业类型。"),
    "unknown_action": ("Unknown action.", "未知的操作。"),
    "bad_command": ("The command is malformed.", "指令格式错误。"),
    "unknown_barcode": ("This barcode is not known.", "无法识别的条码。"),
    "unknown_location": ("Unknown location.", "未知库位。"),
    "stock_found": ("Stock found.", "已找到库存。"),
    "stock_moved": ("Stock moved.", "库存已移动。"),
    "ok": ("Done.", "完成。"),
}


def normalise_language(lang: str | None) -> str:
    if not lang:
        return LANGUAGES[0]
    lang = lang.replace("-", "_").lower()
    return "en" if lang.startswith("en") else "zh_Hans_CN"


def text(code: str, lang: str | None = None) -> str:
    en, zh = MESSAGES.get(code, MESSAGES["error"])
    return en if normalise_language(lang) == "en" else zh
