"""parse_template / looks_like_template on pasted paper templates."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.fields import ComplaintKind, fields_of
from bot.domain.paste import PastedForm, looks_like_template, parse_template
from bot.texts import template_environment, translations

# Characters whose Simplified form differs, as the labels use them (投訴 → 投诉 and so on).
HAN_TRADITIONAL = re.compile("[訴戶稱發貨規數產質問題時間對過經結號務寫處進]")

P = ComplaintKind.PRODUCT
S = ComplaintKind.SERVICE

EXAMPLE = """《產品質量投訴》
投拆人：王小明
客戶名稱: 永輝超市
發貨日期：2026年11月20日
品牌：
規格及數量：500ml×20箱
產品存在的質量問題：瓶蓋漏液
客戶要求：退貨
投訴時間：_年_月_日_時_分
"""

EXAMPLE_VALUES = {
    "complainant": "王小明",
    "customer": "永輝超市",
    "ship_date": "2026年11月20日",
    "spec_qty": "500ml×20箱",
    "problem": "瓶蓋漏液",
    "request": "退貨",
}


def test_the_example() -> None:
    assert parse_template(EXAMPLE) == PastedForm(P, EXAMPLE_VALUES, [])
    assert looks_like_template(EXAMPLE)


def test_simplified_labels_and_half_width_colons() -> None:
    text = """投诉人:王小明
客户名称:永辉超市
发货日期:2026-11-20
品牌:康师傅
规格及数量:500ml×20箱
产品存在的质量问题:瓶盖漏液
客户要求:退货
投诉时间:2026年11月21日9时30分"""
    form = parse_template(text)
    assert form.kind is P
    assert form.values == {
        "complainant": "王小明",
        "customer": "永辉超市",
        "ship_date": "2026-11-20",
        "brand": "康师傅",
        "spec_qty": "500ml×20箱",
        "problem": "瓶盖漏液",
        "request": "退货",
        "filed_at": "2026年11月21日9时30分",
    }
    assert form.unknown_lines == []


def test_shuffled_order_and_messy_spacing() -> None:
    text = """

\u3000客戶要求 ：退貨\u3000
產品存在的質量問題　：　瓶蓋漏液

   投拆人 :王小明
客戶名稱：：永輝超市
發貨日期：２０２６年１１月２０日
"""
    form = parse_template(text)
    assert form.kind is P
    assert form.values == {
        "request": "退貨",
        "problem": "瓶蓋漏液",
        "complainant": "王小明",
        "customer": "：永輝超市",  # only the first colon belongs to the label
        "ship_date": "２０２６年１１月２０日",  # raw: validation reads it later
    }


def test_missing_fields_are_simply_absent() -> None:
    form = parse_template("投訴人：王小明\n客戶要求：賠款")
    assert form == PastedForm(P, {"complainant": "王小明", "request": "賠款"}, [])


def test_multi_line_values() -> None:
    text = """投訴人：王小明
產品存在的質量問題：
1. 瓶蓋漏液
2. 標籤脫落

   3. 箱子破損
客戶要求：退貨
另外運費由我方承擔"""
    form = parse_template(text)
    assert form.values["problem"] == "1. 瓶蓋漏液\n2. 標籤脫落\n3. 箱子破損"
    assert form.values["request"] == "退貨\n另外運費由我方承擔"


def test_value_on_the_line_after_its_label() -> None:
    form = parse_template("投訴人：\n王小明\n客戶名稱：\n永輝超市")
    assert form.values == {"complainant": "王小明", "customer": "永輝超市"}


def test_numbered_and_bulleted_labels() -> None:
    text = """1. 投訴人：王小明
2、客戶名稱:永輝超市
(3) 發貨日期：11月20日
④品牌：康師傅
五、規格及數量：20箱
- 產品存在的質量問題：漏液
• 客戶要求：換貨"""
    form = parse_template(text)
    assert form.values == {
        "complainant": "王小明",
        "customer": "永輝超市",
        "ship_date": "11月20日",
        "brand": "康師傅",
        "spec_qty": "20箱",
        "problem": "漏液",
        "request": "換貨",
    }
    assert form.unknown_lines == []


def test_lines_before_the_first_label_are_unknown() -> None:
    form = parse_template("各位好，以下是投訴：\n投訴人：王小明\n客戶名稱：永輝")
    assert form.unknown_lines == ["各位好，以下是投訴："]
    assert form.values == {"complainant": "王小明", "customer": "永輝"}


def test_repeated_label_last_non_empty_wins() -> None:
    text = "客戶名稱：永輝\n品牌：A\n客戶名稱：永輝超市（福州店）\n客戶名稱：\n客戶名稱：_"
    assert parse_template(text).values == {"customer": "永輝超市（福州店）", "brand": "A"}


def test_placeholders_are_omitted_and_real_times_kept() -> None:
    assert "filed_at" not in parse_template("投訴人：王\n投訴時間：_年_月_日_時_分").values
    assert "filed_at" not in parse_template("投訴人：王\n投訴時間：  年  月  日  時  分").values
    assert "filed_at" not in parse_template("投訴人：王\n投訴時間：＿＿＿＿").values
    form = parse_template("投訴人：王\n投訴時間：2026年11月21日10時05分")
    assert form.values["filed_at"] == "2026年11月21日10時05分"


def test_label_aliases_and_damaged_original() -> None:
    # copied from the rule book itself, encoding damage and all
    text = "投拆人:王\n客戶名稱:永輝\n發(fā)貨日期:11/20\n規(guī)格及數量:20箱"
    form = parse_template(text)
    assert form.kind is P
    assert form.values == {
        "complainant": "王",
        "customer": "永輝",
        "ship_date": "11/20",
        "spec_qty": "20箱",
    }
    assert parse_template("客戶：永輝\n質量問題：漏液\n出貨日期：今天").values == {
        "customer": "永輝",
        "problem": "漏液",
        "ship_date": "今天",
    }


def test_html_and_emoji_are_kept_verbatim() -> None:
    form = parse_template("投訴人：<b>王</b>\n客戶名稱：A&B 😀")
    assert form.values == {"complainant": "<b>王</b>", "customer": "A&B 😀"}


SERVICE_ONE_LINE = """《服務質量投訴》
投拆人：李四
投訴對象：物流部
投訴事件（時間、起因、過程、結果）：司機送貨遲到兩小時，態度惡劣
投訴目的（希望達到的結果：如索賠、處理、改進服務質量）：處理
投訴時間：_年_月_日_時_分"""


def test_service_template_unsplit_event_is_course() -> None:
    form = parse_template(SERVICE_ONE_LINE)
    assert form == PastedForm(
        S,
        {
            "complainant": "李四",
            "target": "物流部",
            "event_course": "司機送貨遲到兩小時，態度惡劣",
            "purpose": "處理",
        },
        [],
    )
    assert looks_like_template(SERVICE_ONE_LINE)


def test_service_event_sub_parts_on_one_line() -> None:
    text = (
        "投訴人:李四\n"
        "投訴事件(時間、起因、過程、結果):時間：11月20日，起因：送貨遲到；過程：司機態度差。"
        "結果：客戶拒收\n"
        "投訴目的(希望達到的結果:如索賠、處理、改進服務質量):改進服務質量"
    )
    form = parse_template(text)
    assert form.kind is S
    assert form.values == {
        "complainant": "李四",
        "event_time": "11月20日",
        "event_cause": "送貨遲到",
        "event_course": "司機態度差。",
        "event_result": "客戶拒收",
        "purpose": "改進服務質量",
    }


def test_service_event_sub_parts_on_separate_lines() -> None:
    text = """投诉人：李四
投诉对象：物流部
投诉事件：
  时间：11月20日下午
  1. 起因：送货迟到
  过程：司机态度差
  后来还骂人
  结果：客户拒收
投诉目的：索赔"""
    form = parse_template(text)
    assert form.kind is S
    assert form.values == {
        "complainant": "李四",
        "target": "物流部",
        "event_time": "11月20日下午",
        "event_cause": "送货迟到",
        "event_course": "司机态度差\n后来还骂人",
        "event_result": "客户拒收",
        "purpose": "索赔",
    }


def test_unlabelled_event_text_goes_before_the_labelled_course() -> None:
    text = "投訴對象：物流部\n投訴事件：背景說明\n經過：很慢\n原因：下雨"
    form = parse_template(text)
    assert form.values == {
        "target": "物流部",
        "event_course": "背景說明\n很慢",
        "event_cause": "下雨",
    }


def test_sub_part_words_are_plain_text_outside_the_event() -> None:
    form = parse_template("投訴人：王\n產品存在的質量問題：漏液\n時間：昨天")
    assert form.values["problem"] == "漏液\n時間：昨天"
    assert "event_time" not in form.values


def test_explicit_event_labels() -> None:
    form = parse_template("投訴事件·時間：昨天\n事件結果：拒收\n投訴對象：物流部")
    assert form.kind is S
    assert form.values == {"event_time": "昨天", "event_result": "拒收", "target": "物流部"}


def test_kind_from_title_when_only_shared_labels() -> None:
    assert parse_template("《服務質量投訴》\n投訴人：王").kind is S
    assert parse_template("1、《產品質量投訴》填寫格式\n投訴人：王").kind is P
    assert parse_template("投訴人：王\n投訴時間：昨天").kind is None


def test_labels_beat_a_wrong_title() -> None:
    form = parse_template("《產品質量投訴》\n投訴人：王\n投訴對象：物流部\n投訴目的：處理")
    assert form.kind is S
    assert form.values == {"complainant": "王", "target": "物流部", "purpose": "處理"}


def test_mixed_labels_title_decides_and_foreign_lines_are_unknown() -> None:
    text = "《產品質量投訴》\n投訴對象：物流部\n張三\n客戶名稱：永輝"
    form = parse_template(text)
    assert form.kind is P
    assert form.values == {"customer": "永輝"}
    assert form.unknown_lines == ["投訴對象：物流部", "張三"]


def test_mixed_labels_without_title_majority_decides() -> None:
    assert parse_template("投訴對象：物流部\n客戶名稱：永輝").kind is None
    form = parse_template("投訴對象：物流部\n客戶名稱：永輝\n品牌：A")
    assert form.kind is P
    assert form.unknown_lines == ["投訴對象：物流部"]


def test_looks_like_template() -> None:
    assert looks_like_template("投訴人：王\n客戶名稱：永輝")
    assert looks_like_template("客户名称:永辉\n品牌:")  # empty labels still count
    assert looks_like_template("投訴事件：\n時間：昨天\n結果：拒收")
    assert not looks_like_template("")
    assert not looks_like_template("你好，請問今天的貨什麼時候到？")
    assert not looks_like_template("hello: world\nfoo: bar")
    assert not looks_like_template("投訴人：王小明")  # one label is not a template
    assert not looks_like_template("投訴人：王\n投訴人：李")  # distinct labels
    assert not looks_like_template("我想問投訴人：王小明，客戶名稱：永輝")  # not at line starts
    assert not looks_like_template("投訴人 王小明\n客戶名稱 永輝")  # no colons


def test_garbage() -> None:
    for text in ["", "\n\n", "asdf qwer", "::::", "：：\n（）：", "《》", "\x00\ud800"]:
        form = parse_template(text)
        assert form.values == {}
        assert not looks_like_template(text)


# --- properties -------------------------------------------------------------------
@given(st.text())
def test_parse_template_never_raises(text: str) -> None:
    form = parse_template(text)
    assert all(isinstance(v, str) and v for v in form.values.values())
    assert isinstance(looks_like_template(text), bool)


@given(st.lists(st.sampled_from(["投訴人：", "客戶名稱:", "投訴事件（時間、起因）：", "時間：",
                                 "結果:", "\n", "\u3000", "《服務質量投訴》", "1.", "發(fā)",
                                 "_年_月", "x", "王", "(", ")", ":", "："])).map("".join))
def test_parse_template_never_raises_on_template_like_noise(text: str) -> None:
    parse_template(text)
    looks_like_template(text)


PRODUCT_LABELS = {
    "complainant": "投訴人",
    "customer": "客戶名稱",
    "ship_date": "發貨日期",
    "brand": "品牌",
    "spec_qty": "規格及數量",
    "problem": "產品存在的質量問題",
    "request": "客戶要求",
    "filed_at": "投訴時間",
}
SERVICE_LABELS = {
    "complainant": "投訴人",
    "target": "投訴對象",
    "purpose": "投訴目的(希望達到的結果:如索賠、處理、改進服務質量)",
    "filed_at": "投訴時間",
}
EVENT_LABELS = {
    "event_time": "時間",
    "event_cause": "起因",
    "event_course": "過程",
    "event_result": "結果",
}

# No colons, no 《》, no line breaks, no placeholder-only values: what is left is free
# text that can never be mistaken for a label, a title or a blank.
_ALPHABET = "王小明永輝超市瓶蓋漏液箱康師傅物流部態度abcXYZ0123 <>&()-、，。😀"
_value = st.text(alphabet=_ALPHABET, min_size=1, max_size=20).filter(
    lambda v: v == v.strip() and any(ch.isalnum() or ch == "😀" for ch in v)
)
_multiline_value = st.lists(_value, min_size=1, max_size=3).map("\n".join)


def _render(labels: dict[str, str], values: dict[str, str], colon: str) -> list[list[str]]:
    return [[f"{labels[k]}{colon}{v.splitlines()[0]}", *v.splitlines()[1:]]
            for k, v in values.items()]


@given(
    values=st.dictionaries(st.sampled_from(sorted(PRODUCT_LABELS)), _multiline_value,
                           min_size=1),
    colon=st.sampled_from(["：", ":", " : ", "\u3000："]),
    title=st.booleans(),
    data=st.data(),
)
def test_product_round_trip(values: dict[str, str], colon: str, title: bool,
                            data: st.DataObject) -> None:
    blocks = data.draw(st.permutations(_render(PRODUCT_LABELS, values, colon)))
    lines = (["《產品質量投訴》"] if title else []) + [line for b in blocks for line in b]
    form = parse_template("\n".join(lines))
    assert form.values == values
    assert form.unknown_lines == []
    if title or set(values) - {"complainant", "filed_at"}:
        assert form.kind is P


@given(
    values=st.dictionaries(st.sampled_from(sorted(SERVICE_LABELS)), _multiline_value),
    event=st.dictionaries(st.sampled_from(sorted(EVENT_LABELS)), _value, min_size=1),
    colon=st.sampled_from(["：", ":"]),
    data=st.data(),
)
def test_service_round_trip(values: dict[str, str], event: dict[str, str], colon: str,
                            data: st.DataObject) -> None:
    sub_parts = data.draw(st.permutations(_render(EVENT_LABELS, event, colon)))
    event_block = [f"投訴事件(時間、起因、過程、結果){colon}"] + [b[0] for b in sub_parts]
    blocks = data.draw(st.permutations([*_render(SERVICE_LABELS, values, colon), event_block]))
    form = parse_template("\n".join(line for b in blocks for line in b))
    assert form.kind is S
    assert form.values == {**values, **event}
    assert form.unknown_lines == []


# --- English labels ---------------------------------------------------------------
# What an English-speaking member of staff pastes: the form filled in with the English
# labels the bot shows them (Field.english[0]; card.html.j2's event_gloss and kind_name).
ENGLISH_PRODUCT = """Product quality complaint
Complainant: John Smith
Customer: Yonghui Supermarket (Fuzhou)
Ship date: 2026-11-20
Brand: Master Kong
Spec & quantity: 500ml x 20 cases
Quality problem: caps leaking
labels peeling off on about half the bottles
Request: Return
Filed at: ____
"""


def test_english_product_paste() -> None:
    assert looks_like_template(ENGLISH_PRODUCT)
    assert parse_template(ENGLISH_PRODUCT) == PastedForm(
        P,
        {
            "complainant": "John Smith",
            "customer": "Yonghui Supermarket (Fuzhou)",
            "ship_date": "2026-11-20",
            "brand": "Master Kong",
            "spec_qty": "500ml x 20 cases",
            "problem": "caps leaking\nlabels peeling off on about half the bottles",
            "request": "Return",
        },
        [],
    )


ENGLISH_SERVICE = """SERVICE QUALITY COMPLAINT
Complainant: Li Si
Complaint about: Logistics
Event: time: 20 Nov, around 3 pm
Event: cause: the delivery was two hours late
Event: what happened: the driver was rude to the customer. Delivery time: 5 pm
Event: result: the customer refused the goods
Purpose: improve service
Filed at: _年_月_日_時_分
"""


def test_english_service_paste() -> None:
    assert looks_like_template(ENGLISH_SERVICE)
    assert parse_template(ENGLISH_SERVICE) == PastedForm(
        S,
        {
            "complainant": "Li Si",
            "target": "Logistics",
            "event_time": "20 Nov, around 3 pm",
            "event_cause": "the delivery was two hours late",
            # "Delivery time:" is text: an English part word needs a separator before it
            "event_course": "the driver was rude to the customer. Delivery time: 5 pm",
            "event_result": "the customer refused the goods",
            "purpose": "improve service",
        },
        [],
    )


def test_english_service_event_block() -> None:
    text = """Service quality complaint form
complainant：Li Si
COMPLAINT ABOUT：Logistics
The event (time, cause, what happened, result):
  time: yesterday afternoon
  1. Cause: rain
  What happened: the goods arrived wet
  and the driver left without a signature
  Outcome: refused
Purpose: claim"""
    form = parse_template(text)
    assert form == PastedForm(
        S,
        {
            "complainant": "Li Si",
            "target": "Logistics",
            "event_time": "yesterday afternoon",
            "event_cause": "rain",
            "event_course": "the goods arrived wet\nand the driver left without a signature",
            "event_result": "refused",
            "purpose": "claim",
        },
        [],
    )
    assert looks_like_template(text)


def test_english_event_parts_on_one_line() -> None:
    text = ("Complaint about: HR\n"
            "Event: Time: 20 Nov. Cause: late; what happened: rude driver, Result: refused")
    assert parse_template(text).values == {
        "target": "HR",
        "event_time": "20 Nov.",
        "event_cause": "late",
        "event_course": "rude driver",
        "event_result": "refused",
    }


def test_english_event_part_labels() -> None:
    text = ("Event time: 20 Nov\nThe event — cause: late\nevent - what happened: rude\n"
            "Event result: refused\nComplaint against: Logistics")
    form = parse_template(text)
    assert form.kind is S
    assert form.values == {"event_time": "20 Nov", "event_cause": "late",
                           "event_course": "rude", "event_result": "refused",
                           "target": "Logistics"}


def test_the_bots_english_rendering_pasted_back() -> None:
    # the summary and card an English-speaking user sees: Chinese labels with glosses
    product = """《產品質量投訴》 (product quality complaint) · step 8 of 8: please check
投訴人 (complainant): John Smith
客戶名稱 (customer): Yonghui
發貨日期 (ship date): 2026-11-20
規格及數量 (spec & quantity): 20 cases
產品存在的質量問題 (quality problem): leaking 📷 2 photos
客戶要求 (request): 退貨"""
    form = parse_template(product)
    assert form.kind is P
    assert form.values["customer"] == "Yonghui"
    assert form.values["spec_qty"] == "20 cases"
    service = """#S-2026-0001 服務質量投訴 (service quality complaint)
投訴人 (complainant): Li Si (銷售部)
投訴對象 (complaint about): 物流部
投訴事件 (the event):
　時間 (time): 11/20
　起因 (cause): late
　過程 (what happened): rude
　結果 (result): refused
投訴目的 (purpose): 處理"""
    form = parse_template(service)
    assert form.kind is S
    assert form.values == {
        "complainant": "Li Si (銷售部)",
        "target": "物流部",
        "event_time": "11/20",
        "event_cause": "late",
        "event_course": "rude",
        "event_result": "refused",
        "purpose": "處理",
    }
    assert form.unknown_lines == ["#S-2026-0001 服務質量投訴 (service quality complaint)"]


def test_english_labels_in_any_case_width_and_spacing() -> None:
    text = "SHIP DATE：11/20\nｃｕｓｔｏｍｅｒ　ｎａｍｅ：Yonghui\nShipdate2:x\nspec&quantity :20\n" \
           "- Customer’s request: exchange\n2) Quality Issues: leaking"
    form = parse_template(text)
    assert form.kind is P
    assert form.values == {
        "ship_date": "11/20",
        "customer": "Yonghui\nShipdate2:x",  # not a label: no colon right after it
        "spec_qty": "20",
        "request": "exchange",
        "problem": "leaking",
    }


def test_english_titles_decide_the_kind() -> None:
    assert parse_template("Service quality complaint\nComplainant: Li").kind is S
    assert parse_template("PRODUCT QUALITY COMPLAINT FORM:\nComplainant: Li").kind is P
    assert parse_template("《Service Quality Complaint》\ncomplainant: Li").kind is S
    assert parse_template("1. Product-quality complaint (產品質量投訴)\nComplainant: Li").kind is P
    assert parse_template("【服務質量投訴】(service quality complaint)\nComplainant: Li").kind is S
    assert parse_template("Complainant: Li\nFiled at: today").kind is None
    # a sentence is no title
    form = parse_template("Service quality complaint about the driver\nComplainant: Li")
    assert form.kind is None
    assert form.unknown_lines == ["Service quality complaint about the driver"]


def test_english_part_words_are_plain_text_outside_the_event() -> None:
    form = parse_template("Complainant: Li\nQuality problem: leaking\nTime: yesterday")
    assert form.values["problem"] == "leaking\nTime: yesterday"
    assert "event_time" not in form.values


def test_english_looks_like_template() -> None:
    assert looks_like_template("Customer: Yonghui\nBrand: Master Kong")
    assert looks_like_template("complaint about: HR\npurpose:")
    assert not looks_like_template("Complainant: Li")  # one label is not a template
    assert not looks_like_template("Hi: there\nThanks: bye")
    assert not looks_like_template("Our customer: Yonghui, their brand: Master Kong")
    assert not looks_like_template("Customer Yonghui\nBrand Master Kong")  # no colons


@cache
def _english_card() -> tuple[dict[str, str], Any]:
    module = template_environment(language="en").get_template("card.html.j2").module
    return module.event_gloss, module.kind_name  # type: ignore[attr-defined]


def test_every_english_label_the_bot_shows_is_read() -> None:
    # The English card shows each label with Field.english[0] and the event's parts with
    # event_gloss (templates/card.html.j2): what it shows, a paste must read.
    event_gloss, kind_name = _english_card()
    for kind in ComplaintKind:
        for f in fields_of(kind):
            assert parse_template(f"{f.english[0]}: x").values == {f.key: "x"}, f.key
            assert parse_template(f"{f.english[0].upper()}：x").values == {f.key: "x"}
        title = str(kind_name(kind)).split("(")[1].rstrip(")")
        assert parse_template(f"{title}\nComplainant: Li").kind is kind
    for key, gloss in event_gloss.items():
        assert parse_template(f"The event:\n{gloss}: x").values == {key: "x"}, key


def test_the_simplified_labels_the_bot_shows_are_read() -> None:
    # What a zh-Hans reader sees (the catalog's Simplified label) is what they paste back.
    simplified = translations("zh-Hans").gettext
    for kind in ComplaintKind:
        lines = {f.key: f"{simplified(f.label)}：值 {f.key}" for f in fields_of(kind)
                 if f.asked}
        assert all(not HAN_TRADITIONAL.search(line) for line in lines.values()), lines
        parsed = parse_template("\n".join(lines.values()))
        assert parsed.kind is kind
        assert parsed.values == {key: f"值 {key}" for key in lines}, parsed.values


_CASES = st.sampled_from([str.lower, str.upper, str.title, str.capitalize])


@given(
    values=st.dictionaries(st.sampled_from(sorted(PRODUCT_LABELS)), _multiline_value,
                           min_size=1),
    case=_CASES,
    colon=st.sampled_from(["：", ":", " : "]),
    data=st.data(),
)
def test_product_round_trip_english(values: dict[str, str], case: Callable[[str], str],
                                    colon: str, data: st.DataObject) -> None:
    labels = {f.key: case(f.english[0]) for f in fields_of(P)}
    blocks = data.draw(st.permutations(_render(labels, values, colon)))
    form = parse_template("\n".join(["Product quality complaint", *(x for b in blocks for x in b)]))
    assert form == PastedForm(P, values, [])


@given(
    values=st.dictionaries(st.sampled_from(sorted(SERVICE_LABELS)), _multiline_value),
    event=st.dictionaries(st.sampled_from(sorted(EVENT_LABELS)), _value, min_size=1),
    case=_CASES,
    as_labels=st.booleans(),
    data=st.data(),
)
def test_service_round_trip_english(values: dict[str, str], event: dict[str, str],
                                    case: Callable[[str], str], as_labels: bool,
                                    data: st.DataObject) -> None:
    labels = {f.key: case(f.english[0]) for f in fields_of(S)}
    if as_labels:  # "Event: time: …" lines
        event_block = [line for b in _render(labels, event, ":") for line in b]
    else:  # "The event:" and "time: …" under it
        event_gloss, _ = _english_card()
        parts = data.draw(st.permutations(_render(
            {k: case(v) for k, v in event_gloss.items()}, event, ":")))
        event_block = [case("The event") + ":"] + [b[0] for b in parts]
    blocks = data.draw(st.permutations([*_render(labels, values, ":"), event_block]))
    form = parse_template("\n".join(line for b in blocks for line in b))
    assert form == PastedForm(S, {**values, **event}, [])
