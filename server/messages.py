"""Every user-visible failure has a stable code and a sentence in each language, here in one place."""
from __future__ import annotations

LANGUAGES = ("zh_Hans_CN", "en")

MESSAGES: dict[str, tuple[str, str]] = {
    # code: (English, 简体中文)
    "error": ("Something went wrong.", "出错了。"),
    "not_found": ("Not found.", "未找到。"),
    "bad_request": ("The request is not valid.", "请求无效。"),
    "request_too_large": ("The request is larger than the server accepts.", "请求内容过大，超出服务器允许的大小。"),
    "bad_credentials": ("Wrong user, password or PIN.", "用户、密码或PIN错误。"),
    "locked_out": ("Too many failed logins. Try again in a few minutes.", "登录失败次数过多，请几分钟后再试。"),
    "unauthorized": ("Please log in.", "请先登录。"),
    "forbidden": ("Your role may not do this.", "您的角色无权执行此操作。"),
    # logins and sessions (登录与会话)
    "login_busy": ("The server is busy checking logins. Try again in a moment.", "服务器正忙于登录验证，请稍后再试。"),
    "pin_too_short": ("This PIN is shorter than this site requires. Ask the administrator for a new PIN.",
                      "此PIN位数少于本仓要求，请向管理员申请新的PIN。"),
    "device_in_use": ("Another user is logged in on this device. Ask them to log out, or a supervisor to release it.",
                      "此设备已有其他用户登录。请对方退出，或请主管释放此设备。"),
    "cross_site_form": ("This form was sent from another site and was refused.", "此表单来自其他网站，已被拒绝。"),
    "logged_out": ("You were logged out. Log in again.", "您已退出登录，请重新登录。"),
    "session_expired": ("Your login has expired. Log in again.", "登录已过期，请重新登录。"),
    "role_changed": ("Your roles have changed. Log in again.", "您的角色已变更，请重新登录。"),
    "user_deactivated": ("Your account has been deactivated. Ask your supervisor.", "您的账号已停用，请联系主管。"),
    "device_released": ("A supervisor released this device. Log in again.", "主管已释放此设备，请重新登录。"),
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
    "nothing_to_move": ("The units are already at that location, in that state.", "商品已在该库位且状态相同，无需移动。"),
    "ok": ("Done.", "完成。"),
    # picking (拣货)
    "no_work": ("No pick task is waiting for you.", "暂无拣货任务。"),
    "work_assigned": ("Pick task assigned. Go to the location.", "已分配拣货任务，请前往库位。"),
    "location_ok": ("Location confirmed. Scan the item.", "库位正确，请扫商品。"),
    "wrong_location": ("Wrong location. Scan the location shown.", "库位错误，请扫描屏幕上的库位。"),
    "wrong_item": ("Wrong item. Check the product.", "商品错误，请核对商品。"),
    "wrong_lot": ("Wrong lot. Take the lot shown.", "批次错误，请拣屏幕上的批次。"),
    "over_pick": ("Too many. Put the extra units back.", "数量超出，请放回多拣的商品。"),
    "wrong_tote": ("Wrong tote. Use the tote shown.", "周转箱错误，请使用屏幕上的周转箱。"),
    "item_counted": ("Counted.", "已计数。"),
    "line_picked": ("Picked. Go to the next location.", "已拣货，请前往下一个库位。"),
    "task_done": ("Task finished.", "拣货任务已完成。"),
    "short_recorded": ("Short pick recorded; the location will be counted.", "已登记缺货，库位将被盘点。"),
    "line_skipped": ("Line moved to the end of the walk.", "已跳过，此行移到最后。"),
    "reason_required": ("Choose a reason for the short pick.", "请选择缺货原因。"),
    "scan_tote_first": ("Put the counted units into the tote first.", "请先将已计数的商品放入周转箱。"),
    "units_in_hand": ("The picker holds counted units that are not in a tote yet; the task cannot change hands now.",
                      "拣货员手上还有已计数但未放入周转箱的商品，任务暂不能转派。"),
    "not_a_picker": ("This user does not pick.", "该用户不是拣货员。"),
    "scan_item_before_qty": ("Scan the item once before typing the quantity.", "请先扫描一次商品，再输入数量。"),
    # {slot}: the cart slot the first tote is for (a task without slots gets "empty_tote")
    "empty_tote_for_slot": ("Not an empty tote. Scan an empty tote for slot {slot}.",
                            "这不是空周转箱，请为格口 {slot} 扫描一个空周转箱。"),
    "empty_tote": ("Not an empty tote. Scan an empty tote.", "这不是空周转箱，请扫描一个空周转箱。"),
    "wave_paused": ("The wave is paused: nothing is confirmed until the supervisor resumes it.",
                    "波次已暂停：在主管恢复之前不能确认拣货。"),
    "wave_resumed": ("The wave is resumed. Carry on picking.", "波次已恢复，请继续拣货。"),
    "task_reassigned": ("A supervisor gave your task to another picker.", "主管已将您的任务转派给其他拣货员。"),
    # packing (打包) and shipping (发货)
    "no_station": ("Log in at a packing station.", "请在打包台登录。"),
    "no_open_order": ("Scan a tote, an order number or a tracking number.", "请扫描周转箱、订单号或运单号。"),
    "nothing_to_pack": ("Nothing is waiting to be packed for this code.", "此条码没有待打包的订单。"),
    "order_not_ready": ("This order is not picked yet.", "该订单尚未拣货完成。"),
    "order_cancelled": ("This order is cancelled. Put it aside.", "该订单已取消，请放到一边。"),
    "already_shipped": ("This order has already shipped.", "该订单已发货。"),
    "open_elsewhere": ("This order is open at another station.", "该订单正在其他打包台处理。"),
    "pack_opened": ("Order opened. Scan each item.", "订单已打开，请逐件扫描商品。"),
    "parcel_ready": ("Parcel found. Weigh it and ship it.", "已找到包裹，请称重后发货。"),
    "already_open": ("This order is already open.", "该订单已打开。"),
    "unit_verified": ("Item checked.", "验货通过。"),
    "extra_unit": ("Extra unit: this order needs no more of this item.", "多件：该订单不需要更多此商品。"),
    "other_order": ("This belongs to another order. Put it back.", "这属于其他订单，请放回。"),
    "label_queued": ("All items checked. The label is printing.", "验货完成，正在打印面单。"),
    "no_printer": ("No label printer is set up for this station.", "此打包台没有设置面单打印机。"),
    "weight_ok": ("Weight checked. Ship the parcel.", "称重通过，请发货。"),
    "weight_out_of_band": ("The weight is out of range. Check the parcel and weigh again.",
                           "重量超出范围，请检查包裹后重新称重。"),
    "invalid_weight": ("Enter the weight in grams.", "请输入重量（克）。"),
    "verify_first": ("Check every item first.", "请先完成验货。"),
    "weigh_first": ("Weigh the parcel first.", "请先称重。"),
    "label_confirmed": ("Label checked.", "面单已核对。"),
    "wrong_label": ("This is not this parcel's label.", "此面单不属于该包裹。"),
    "label_reprinted": ("The label is printing again.", "正在补打面单。"),
    "order_shipped": ("Shipped.", "已发货。"),
    "pack_closed": ("Order put aside.", "订单已挂起。"),
    "units_not_at_packing": ("Some items of this parcel are not at packing.", "此包裹的部分商品不在打包区。"),
    # label printers (面单打印机)
    "invalid_printer": ("The printer settings are not valid.", "打印机设置无效。"),
    "printer_url_rejected": ("This printer address cannot be used. Use tcp://host:9100, cups://queue or a file:// "
                             "folder.", "无法使用此打印机地址。请使用 tcp://主机:9100、cups://队列名或 file:// 文件夹。"),
    "printer_url_outside_spool": ("A file printer may write only inside the spool folder.",
                                  "文件打印机只能写入打印暂存文件夹（spool）之内。"),
    "printer_url_admin_only": ("Only an administrator may add a printer or change its address.",
                               "只有管理员可以添加打印机或更改打印机地址。"),
    "label_rejected": ("The label cannot be made from this data. Check the order and the printer's font.",
                       "无法用这些数据生成面单，请检查订单和打印机字体。"),
    "printer_inactive": ("This printer is not in use.", "该打印机已停用。"),
    "print_job_failed": ("A label failed to print. Check the printer.", "面单打印失败，请检查打印机。"),
    # put wall (播种墙)
    "no_wall_station": ("Log in at a put wall station.", "请在播种墙工位登录。"),
    "no_open_tote": ("Scan a batch tote first.", "请先扫描汇总拣货周转箱。"),
    "nothing_to_sort": ("Nothing in this tote is waiting to be sorted.", "此周转箱没有待分拣的商品。"),
    "tote_not_ready": ("This tote is still being picked.", "此周转箱仍在拣货中。"),
    "tote_open_elsewhere": ("This tote is being sorted at another station.", "此周转箱正在其他工位分拣。"),
    "slot_missing": ("A slot of this wave has no label on this put wall.", "本波次的某个格口在此播种墙上没有格口标签。"),
    "tote_opened": ("Tote opened. Scan an item.", "周转箱已打开，请扫描商品。"),
    "put_to_slot": ("Put it into the slot shown, then scan the slot's label.", "请放入所示格口，然后扫描格口标签。"),
    "not_in_tote": ("This item is not in the tote.", "此商品不在该周转箱中。"),
    "not_needed": ("No order on this wall needs more of this item. Put it aside.",
                   "播种墙上没有订单还需要此商品，请放到一边。"),
    "split_case": ("No order needs a whole case. Scan the units one by one.", "没有订单需要整箱，请逐件扫描。"),
    "scan_item_first": ("Scan an item first.", "请先扫描商品。"),
    "wrong_slot": ("Wrong slot. Put it into the slot shown.", "格口错误，请放入屏幕上的格口。"),
    "put_again": ("This slot needs no more of this item now. Scan the item again.", "此格口已不需要该商品，请重新扫描商品。"),
    "unit_put": ("Put.", "已播种。"),
    "slot_complete": ("Slot complete: the order is ready for packing.", "格口已齐，订单可以打包。"),
    "nothing_left_to_put": ("Nothing is left to put into this slot (short picks): the order is ready for packing.",
                            "此格口已无商品可播（缺货），订单可以打包。"),
    "tote_done": ("The tote is empty. Scan the next tote.", "周转箱已分完，请扫描下一个周转箱。"),
    "wave_sorted": ("Every order is sorted; units are left in the tote. Take it to the supervisor.",
                    "所有订单已分拣完毕，周转箱内仍有剩余商品，请交给主管。"),
    "tote_put_aside": ("Tote put aside.", "周转箱已挂起。"),
}


_default = [LANGUAGES[0]]  # the site's DEFAULT_LANGUAGE, once the app has read its settings


def set_default_language(lang: str | None) -> None:
    """The language of a message for a user and device that name none (the DEFAULT_LANGUAGE setting)."""
    _default[0] = LANGUAGES[0] if not lang else normalise_language(lang)


def normalise_language(lang: str | None) -> str:
    if not lang:
        return _default[0]
    lang = lang.replace("-", "_").lower()
    return "en" if lang.startswith("en") else "zh_Hans_CN"


def text(code: str, lang: str | None = None) -> str:
    en, zh = MESSAGES.get(code, MESSAGES["error"])
    return en if normalise_language(lang) == "en" else zh
