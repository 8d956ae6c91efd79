"""Splitting a one-cell Chinese address (收货地址) into its administrative parts.

Seller-centre exports write ``省 市 区 详细地址(邮编)``: levels separated by spaces, the postcode
in half- or full-width parentheses at the end. Some places have no district level (东莞市,
中山市 and a few others go straight to streets), and the four municipalities (直辖市) repeat
themselves as ``北京 北京市 东城区``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MUNICIPALITIES = ("北京", "上海", "天津", "重庆")

_ZIP_AT_END = re.compile(r"[(（]\s*(\d{6})?\s*[)）]\s*$")
_DISTRICT_SUFFIXES = ("区", "县", "市", "旗", "特区", "林区")
# words ending in 区 that name a place inside a city, not a district
_NOT_DISTRICT_SUFFIXES = ("小区", "社区", "园区", "校区", "景区", "厂区", "营区", "新区大道")
_PROVINCE_SUFFIXES = ("省", "自治区", "特别行政区")
_UNSPACED_PROVINCE = re.compile(r"^(?:(北京|上海|天津|重庆)市?|.{2,7}?(?:省|自治区|特别行政区))")
_UNSPACED_CITY = re.compile(r"^.{1,10}?(?:自治州|地区|盟|市)")
_UNSPACED_DISTRICT = re.compile(r"^.{1,8}?(?:区|县|市|旗)")


@dataclass
class Address:
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    zip: str = ""


def split_address(text: str) -> Address:
    value = (text or "").replace("\u3000", " ").strip()
    result = Address()
    zip_match = _ZIP_AT_END.search(value)
    if zip_match:
        result.zip = zip_match.group(1) or ""
        value = value[:zip_match.start()].rstrip()
    tokens = value.split()
    if not tokens:
        return result
    if len(tokens) == 1:
        return _split_unspaced(tokens[0], result)
    result.province = tokens[0]
    rest = tokens[1:]
    municipality = _municipality(result.province)
    if municipality and not rest[0].endswith("市") and _is_district(rest[0]):
        # 北京 东城区 ...: the city level is left out
        result.city = municipality + "市"
    else:
        result.city = rest.pop(0)
    if rest and len(rest) > 1 and _is_district(rest[0]):
        result.district = rest.pop(0)
    result.address = " ".join(rest)
    return result


def _split_unspaced(value: str, result: Address) -> Address:
    province = _UNSPACED_PROVINCE.match(value)
    if not province:
        result.address = value
        return result
    result.province = province.group(0)
    rest = value[province.end():]
    if province.group(1):
        result.city = province.group(1) + "市"
        if rest.startswith(result.city):
            rest = rest[len(result.city):]
    else:
        city = _UNSPACED_CITY.match(rest)
        if city:
            result.city = city.group(0)
            rest = rest[city.end():]
    district = _UNSPACED_DISTRICT.match(rest)
    if district and _is_district(district.group(0)):
        result.district = district.group(0)
        rest = rest[district.end():]
    result.address = rest
    return result


def _municipality(province: str) -> str | None:
    for name in MUNICIPALITIES:
        if province in (name, name + "市"):
            return name
    return None


def _is_district(token: str) -> bool:
    if len(token) > 12 or any(ch.isdigit() for ch in token):
        return False
    if token.endswith(_NOT_DISTRICT_SUFFIXES):
        return False
    return token.endswith(_DISTRICT_SUFFIXES)


def is_province_name(token: str) -> bool:
    return token.endswith(_PROVINCE_SUFFIXES) or _municipality(token) is not None
