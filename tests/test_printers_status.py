"""~HS and ~HQES replies in the printer's own format, one per fault."""

import pytest

from printers.status import StatusParseError, parse_hqes, parse_hs

ETX_CRLF = "\x03\r\n"


def hs(one="030,0,0,1218,000,0,0,0,000,0,0,0", two="001,0,0,0,0,2,6,0,00000000,1,000", three="1234,0"):
    return "".join(f"\x02{part}{ETX_CRLF}" for part in (one, two, three))


def hqes(errors="0 00000000 00000000", warnings="0 00000000 00000000"):
    return (
        "\x02\r\n  PRINTER STATUS                            \r\n"
        f"   ERRORS:         {errors}   \r\n"
        f"   WARNINGS:       {warnings}   \r\n\x03\r\n"
    )


def test_healthy_hs_reply_is_ok_and_every_field_is_read():
    status = parse_hs(hs(one="014,0,0,1218,003,0,0,1,000,0,0,0",
                         two="001,0,0,0,1,1,6,1,00000012,1,004", three="1234,1"))
    assert status.ok and status.faults == []
    host = status.host
    assert host.communication_settings == 14
    assert host.label_length_dots == 1218
    assert host.formats_in_buffer == 3
    assert host.partial_format is True
    assert host.thermal_transfer is True
    assert host.print_mode == "peel_off"
    assert host.print_width_mode == "6"
    assert host.label_waiting is True and status.warnings == ["label_waiting"]
    assert host.labels_remaining_in_batch == 12
    assert host.format_while_printing is True
    assert host.graphics_stored == 4
    assert host.password == "1234"
    assert host.static_ram_installed is True


@pytest.mark.parametrize("one,two,fault", [
    ("030,1,0,1218,000,0,0,0,000,0,0,0", None, "paper_out"),
    ("030,0,1,1218,000,0,0,0,000,0,0,0", None, "paused"),
    ("030,0,0,1218,000,1,0,0,000,0,0,0", None, "buffer_full"),
    ("030,0,0,1218,000,0,1,0,000,0,0,0", None, "comms_diagnostic_mode"),
    ("030,0,0,1218,000,0,0,0,000,1,0,0", None, "corrupt_ram"),
    ("030,0,0,1218,000,0,0,0,000,0,1,0", None, "under_temperature"),
    ("030,0,0,1218,000,0,0,0,000,0,0,1", None, "over_temperature"),
    (None, "001,0,1,0,0,2,6,0,00000000,1,000", "head_open"),
    (None, "001,0,0,1,1,2,6,0,00000000,1,000", "ribbon_out"),
])
def test_each_hs_fault_flag_gives_its_stable_code(one, two, fault):
    kwargs = {key: value for key, value in (("one", one), ("two", two)) if value}
    status = parse_hs(hs(**kwargs))
    assert status.ok is False
    assert status.faults == [fault]


def test_several_hs_faults_are_all_reported():
    status = parse_hs(hs(one="030,1,1,1218,002,0,0,0,000,0,0,0", two="001,0,1,0,0,2,6,0,00000000,1,000"))
    assert status.faults == ["paper_out", "paused", "head_open"]
    assert status.host.formats_in_buffer == 2


def test_no_hs_reply_is_the_no_answer_status():
    status = parse_hs("")
    assert status.ok is False and status.faults == ["no_answer"]


def test_truncated_hs_reply_is_an_error_not_a_healthy_printer():
    with pytest.raises(StatusParseError):
        parse_hs("\x02030,0,0,1218,000,0,0,0,000,0,0,0\x03\r\n")


@pytest.mark.parametrize("group1,faults", [
    ("00000001", ["paper_out"]),
    ("00000002", ["ribbon_out"]),
    ("00000004", ["head_open"]),
    ("00000008", ["cutter_fault"]),
    ("00000010", ["over_temperature"]),
    ("00000020", ["motor_over_temperature"]),
    ("00000005", ["paper_out", "head_open"]),
    ("00000200", ["printhead_thermistor_open"]),
    ("00004000", ["paper_feed_error"]),
])
def test_each_hqes_error_bit_gives_its_stable_code(group1, faults):
    status = parse_hqes(hqes(errors=f"1 00000000 {group1}"))
    assert status.ok is False
    assert status.faults == faults


def test_hqes_without_errors_is_ok_and_reads_warnings():
    status = parse_hqes(hqes(warnings="1 00000000 0000000A"))
    assert status.ok is True
    assert status.warnings == ["clean_printhead", "paper_near_end"]


def test_unknown_hqes_bit_is_still_a_fault():
    status = parse_hqes(hqes(errors="1 00000000 80000000"))
    assert status.faults == ["error_80000000"]


def test_no_hqes_reply_is_the_no_answer_status():
    assert parse_hqes("").faults == ["no_answer"]
    with pytest.raises(StatusParseError):
        parse_hqes("\x02garbage\x03")
