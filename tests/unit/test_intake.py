"""The resident-intake parser, spoken in residents' words."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.intake import (
    CATEGORY_CODES,
    Intake,
    IntakeParser,
    Location,
    Vocabulary,
    VocabularyError,
)
from bot.domain.intake_patterns import PatternFinder
from bot.domain.intake_scan import vocabulary_patterns
from bot.domain.models import Urgency


@pytest.fixture(scope="module")
def parser() -> IntakeParser:
    return IntakeParser()


def resident_says(parser: IntakeParser, text: str) -> Intake:
    return parser.parse(text)


def assert_ticket(intake: Intake, category: str, urgency: Urgency = Urgency.NORMAL) -> None:
    assert intake.is_request, intake.reasons
    assert (intake.category, intake.urgency) == (category, urgency), intake.reasons


# ---------------------------------------------------------------- categories


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("3栋电梯按钮失灵了 按了没反应", "property"),
        ("楼道灯坏了好几天了 晚上黑漆漆的", "property"),
        ("物业费交了啥也不管", "property"),
        ("路灯不亮 莫得人管哦", "municipal"),
        ("马路上有个大坑 电动车都颠得不行", "municipal"),
        ("楼下饭店油烟熏死人了", "environment"),
        ("垃圾桶满了好几天没人收", "environment"),
        ("有人把电动车推到楼道里充电", "safety"),
        ("楼上天天往下扔烟头", "safety"),
        ("门口马路上又有车乱停 堵得出不去", "order"),
        ("广场舞音响太大声了 晚上10点还在跳", "order"),
        ("和邻居因为停车位的事闹矛盾了 想请网格员调解一下", "dispute"),
        ("房东不退押金 怎么办", "dispute"),
        ("我妈瘫痪在床 想问问有没有上门护理的补贴", "assistance"),
        ("低保怎么申请", "assistance"),
        ("社保卡丢了 在哪里补办", "service"),
        ("居住证怎么办理 需要什么材料", "service"),
        ("建议小区多装几个充电桩", "suggestion"),
        ("能不能在路口加个红绿灯 太危险了", "suggestion"),
        ("我要投诉", "other"),
    ],
)
def test_each_category_is_recognised(parser: IntakeParser, text: str, category: str) -> None:
    intake = resident_says(parser, text)
    assert intake.is_request, intake.reasons
    assert intake.category == category, intake.reasons


def test_default_categories_are_the_published_codes_with_labels() -> None:
    categories = Vocabulary.default().categories
    assert tuple(categories) == CATEGORY_CODES
    assert categories["property"].label_zh == "物业管理"
    assert categories["service"].label_zh == "便民服务"
    assert all(category.label_en for category in categories.values())


# ---------------------------------------------------------------- urgency


@pytest.mark.parametrize(
    "text",
    [
        "3栋着火了 快打119",
        "楼道里好大的煤气味",
        "有人被困在电梯里了 喊了半天没人应",
        "7号楼电梯突然停了 我妈还在里面",
        "一个老人晕倒在3栋门口 叫不醒",
        "楼下有人打架 都见血了",
        "暴雨 地下车库淹了",
        "楼下配电箱冒火花了",
        "11栋9楼有户人家窗户往外冒火",
        "there's a strong smell of gas in building 9",
        # Situations, not keywords (issue #11).
        "601的王老头三天没开门了 报纸堆在门口 打电话也不接",
        "消防车被堵在小区门口进不来！！谁的白色轿车 赶紧来挪",
        "12栋楼下一条大狗追着咬孩子 已经咬了一个",
        "5号楼电梯卡住了 里头有个孕妇 喊半天了",
        "楼上阳台的花盆在往外掉 已经掉了一个 下面好多小孩在玩",
        "我外婆住在二单元401 我们打了一上午电话没人接 她有心脏病",
        "谁看到一个三岁左右的小女孩 刚刚在滑梯那里玩 一转眼就不见了！！",
        "LIFT STUCK building 4 with my grandma inside",
        "The ambulance can't get through the gate, a black SUV is blocking it",
    ],
)
def test_danger_to_life_is_an_emergency(parser: IntakeParser, text: str) -> None:
    intake = resident_says(parser, text)
    assert intake.is_request and intake.urgency is Urgency.EMERGENCY, intake.reasons


@pytest.mark.parametrize(
    ("text", "category"),
    [
        # each danger by its structure, in phrasing no word list holds
        ("厨房里烟越来越浓 看不清了", "safety"),
        ("阳台上的杂物烧起来了", "safety"),
        ("闻到一股柴油的味道 不知道哪里来的", "safety"),
        ("液化气罐好像在漏 嘶嘶的", "safety"),
        ("充电器冒烟了 还噼啪响", "safety"),
        ("被电到了 路灯杆漏电", "safety"),
        ("老房子的墙垮了一块", "safety"),
        ("烟感一直在响", "safety"),
        ("电梯关到人了 卡在两层中间", "property"),
        ("5栋地下室水管爆了 水漫上来了", "property"),
        ("奶奶倒在楼道里 叫她也不应", "assistance"),
        ("我家孙女在广场上不见了", "assistance"),
        ("有人拿着菜刀在楼下追着砍", "order"),
        ("someone collapsed and is not moving", "assistance"),
        ("the basement is flooding, building 7", "property"),
    ],
)
def test_each_kind_of_danger_is_an_emergency(
    parser: IntakeParser, text: str, category: str
) -> None:
    assert_ticket(resident_says(parser, text), category, Urgency.EMERGENCY)


@pytest.mark.parametrize(
    "text",
    [
        "大家注意 3栋着火了 快跑",  # a warning in a notice's words
        "谢谢大家 楼下有股很浓的煤气味 快来看看",  # thanks do not cancel it
        "哎呀好可爱的狗 不对 楼下有人晕倒了",  # nor chit-chat
    ],
)
def test_chat_thanks_and_warnings_never_outweigh_a_danger(parser: IntakeParser, text: str) -> None:
    intake = resident_says(parser, text)
    assert intake.is_request and intake.urgency is Urgency.EMERGENCY, intake.reasons


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("3栋停水了 一滴水都没有", "municipal"),
        ("下水道堵了 污水冒到路面上", "municipal"),
        ("楼道里堆满了杂物 消防通道都堵死了", "safety"),
        ("3栋电梯又坏了 老人下不了楼", "property"),
        ("楼梯扶手松了 老人扶着很危险", "property"),  # a hazard for the vulnerable
        ("40栋电梯坏了 我住18楼", "property"),  # a lift down in a high-rise
    ],
)
def test_outages_and_hazards_for_many_or_vulnerable_are_high(
    parser: IntakeParser, text: str, category: str
) -> None:
    assert_ticket(resident_says(parser, text), category, Urgency.HIGH)


def test_a_lift_down_on_a_low_floor_is_normal(parser: IntakeParser) -> None:
    assert_ticket(resident_says(parser, "5栋电梯坏了 我住3楼"), "property", Urgency.NORMAL)


@pytest.mark.parametrize(
    "text",
    [
        "没有着火 是楼下在烧烤 大家放心",
        "不是煤气味 是我家在熬中药 大家别担心",
        "刚才有点煤气味 原来是邻居在做饭 已经没事了",
        "昨天那个着火的新闻看到没 太吓人了",
        "今晚的烟花好漂亮",
        # drills
        "转发：明天上午9点消防演习 楼道会有烟雾 大家莫慌",
        "fire drill at 3pm today, the alarms will sound",
        # fixed, or over, already
        "昨日7栋起火事件已处置完毕 无人员伤亡",
        "已处理：3栋电梯困人 人员已安全救出",
        "昨天那个着火的事情已经处理好了 没得人受伤 谢谢大家关心",
        "炒菜的时候油锅着火了 自己用锅盖盖灭了 没事",
        # news from elsewhere, prevention, likeness, laughter
        "看电视说隔壁小区着火了 大家用电要注意哦",
        "天干物燥 注意用火 防止火灾",
        "这个火锅巨好吃 辣得跟着火一样",
        "救命 这个视频笑死我了",
    ],
)
def test_negated_or_reported_danger_is_not_a_ticket(parser: IntakeParser, text: str) -> None:
    assert not resident_says(parser, text).is_request


def test_negation_cancels_only_the_word_right_after_it(parser: IntakeParser) -> None:
    intake = resident_says(parser, "有人遛狗不捡狗屎 草坪上到处都是")
    assert intake.is_request and intake.category == "environment", intake.reasons


def test_urgency_words_do_not_fire_in_notices(parser: IntakeParser) -> None:
    for text in (
        "消防安全提醒：请勿在楼道停放电动车",
        "【通知】3栋周五停电检修",
        "明天停水大家注意储水",
    ):
        intake = resident_says(parser, text)
        assert not intake.is_request and intake.urgency is Urgency.NORMAL, (text, intake.reasons)


# ---------------------------------------------------------------- locations


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3栋2单元502门口的灯坏了", Location("3", "2", None, "502")),
        ("3-2-502 家里漏水", Location("3", "2", None, "502")),
        ("7-1-1203 楼道堆满纸箱", Location("7", "1", None, "1203")),
        ("三栋的路灯坏了", Location("3")),
        ("40栋15楼的走廊灯不亮", Location("40", None, "15")),
        ("5号楼的电梯困人了", Location("5")),
        ("6#楼的大堂漏水", Location("6")),
        ("B区7幢的下水道堵了", Location("B区7")),
        ("东区5栋停电了", Location("东区5")),
        ("A栋的电梯门夹人", Location("A")),
        ("十二棟二單元的電梯壞了", Location("12", "2")),
        ("三單元樓道燈壞了", Location(None, "3")),
        ("3楼的楼道灯不亮", Location(None, None, "3")),
        ("十八楼的老人下不了楼", Location(None, None, "18")),
        ("502室门口的灯坏了", Location(None, None, None, "502")),
        ("3栋502漏水", Location("3", None, None, "502")),
        ("3栋2-502漏水", Location("3", "2", None, "502")),
        ("５号楼３单元１１０２", Location("5", "3", None, "1102")),
        ("the lift in building 3 is broken", Location("3")),
        ("smoke on the 5th floor of block 2", Location("2", None, "5")),
        ("water leaking into flat 1203", Location(None, None, None, "1203")),
    ],
)
def test_location_formats(parser: IntakeParser, text: str, expected: Location) -> None:
    assert parser.parse_location(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "楼下饭店油烟熏死人了",  # 楼下 is not a floor
        "楼道灯坏了",  # nor is 楼道
        "楼上天天跺脚",  # nor 楼上
        "明天9点停水",  # a time
        "2号那天报的路灯还没修",  # a date
        "电话13812345678 漏水",  # a phone number
        "我们这两栋楼都停水了",  # two buildings, not building 2
        "一栋楼都停电了",  # a whole building, not building 1
        "空调清洗 138-1234-5678",
        "2024年的事",
    ],
)
def test_times_phones_and_building_parts_are_not_locations(parser: IntakeParser, text: str) -> None:
    assert parser.parse_location(text).is_empty()


def test_the_ticket_carries_the_location(parser: IntakeParser) -> None:
    intake = resident_says(parser, "40栋15楼的走廊灯不亮")
    assert intake.location == Location(building="40", floor="15")


def test_location_label() -> None:
    assert Location("3", "2", None, "502").label() == "3栋2单元502"
    assert Location("40", None, "15").label() == "40栋15楼"
    assert Location("B区7").label() == "B区7栋"
    assert Location().label() == ""
    assert Location().is_empty() and not Location(room="502").is_empty()


# ---------------------------------------------------------------- ways of writing


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("三單元樓道燈壞了好幾天", "property"),
        ("物業什麼時候來修樓道燈？都一個禮拜了", "property"),
        ("煤氣味好濃 快來人", "safety"),
        ("鄰居佔用我家車位 講也講不聽", "dispute"),
        ("居住證到期了 怎麼續簽", "service"),
    ],
)
def test_traditional_chinese(parser: IntakeParser, text: str, category: str) -> None:
    intake = resident_says(parser, text)
    assert intake.is_request and intake.category == category, intake.reasons


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("the lift in building 3 is broken again", "property"),
        ("street light out on Xingfu Road", "municipal"),
        ("rubbish has not been collected for a week, it stinks", "environment"),
        ("dogs off leash in the park every evening", "order"),
        ("how do I get a residence certificate for my kid's school?", "service"),
    ],
)
def test_english(parser: IntakeParser, text: str, category: str) -> None:
    intake = resident_says(parser, text)
    assert intake.is_request and intake.category == category, intake.reasons


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("电梯咋个又坏了嘛", "property"),
        ("垃圾咋个没得人收哦 都堆到门口了", "environment"),
        ("啥子时候来电嘛 停电一天了", "municipal"),
        ("老年卡咋个办嘛", "service"),
        ("楼到灯坏了 好几天了", "property"),  # 楼道 typed as 楼到
        ("ＫＴＶ太吵了凌晨两点还在唱😡", "order"),  # full-width, emoji, no punctuation
        ("3棟2單元樓道窗戶爛咗 風好大", "property"),  # Cantonese: 咗 = 了
        ("家門口嗰度啲狗屎冇人清", "environment"),  # Cantonese: 冇 = 没
        ("井盖莫得了 一个大洞", "municipal"),  # Sichuanese: 莫得 = 没有
        ("咱这旮旯路灯都坏了老长时间了", "municipal"),  # Northeastern
    ],
)
def test_dialect_typos_and_full_width(parser: IntakeParser, text: str, category: str) -> None:
    intake = resident_says(parser, text)
    assert intake.is_request and intake.category == category, intake.reasons


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("電梯困咗人 喺5座 快啲嚟", "property"),
        ("我媽暈低咗 叫唔醒", "assistance"),
        ("有人喺樓下打交 流咗好多血", "order"),
        ("俺家孙子不见了 在小区里找半天了", "assistance"),
    ],
)
def test_dialect_emergencies(parser: IntakeParser, text: str, category: str) -> None:
    assert_ticket(resident_says(parser, text), category, Urgency.EMERGENCY)


# ---------------------------------------------------------------- what is not a ticket


@pytest.mark.parametrize(
    "text",
    [
        # thanks and praise after a fix
        "电梯修好了 谢谢物业",
        "谢谢网格员 路灯亮了",
        "昨天报的漏水今天就修好了 给物业点个赞",
        "thanks, the lift is working again",
        # relayed notices
        "明天停水大家注意储水",
        "【通知】3栋周五停电检修",
        "温馨提示：今晚有大风 请大家收好阳台花盆",
        "Notice: water will be off tomorrow 9am-3pm for pipe repair",
        # chit-chat that mentions a subject
        "今天电梯里遇到王阿姨",
        "楼下广场舞好开心",
        "刚刚遛狗遇到老张 聊了半小时",
        # ads
        "专业疏通下水道 电话13812345678",
        "灭鼠灭蟑 专业消杀 包效果",
        "出租：3栋2单元502 两室一厅 拎包入住",
        # acknowledgements
        "收到",
        "好的",
        "+1",
        "👍",
        "要得",
        # questions to neighbours and greetings
        "有人知道附近哪家超市还开着吗",
        "谁家有多余的纸箱 我搬家要用",
        "早上好各位邻居 ☀️",
        "Happy new year everyone 🎉",
    ],
)
def test_not_a_ticket(parser: IntakeParser, text: str) -> None:
    intake = resident_says(parser, text)
    assert not intake.is_request, intake.reasons
    assert intake.category == "other" and intake.urgency is Urgency.NORMAL


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("电梯修好没两天又坏了", "property"),  # fixed, then broken again
        ("谢谢网格员 不过3栋的路灯还是不亮", "municipal"),  # thanks, but
        ("收到 但是我们楼今天已经停水了", "municipal"),  # acknowledged, but
        ("今天又停水 也不提前通知一下", "municipal"),  # complains about the missing notice
        ("麻烦物业来看一下3栋的电梯 一直有异响 谢谢", "property"),  # polite closing
    ],
)
def test_complaints_wrapped_in_politeness_are_tickets(
    parser: IntakeParser, text: str, category: str
) -> None:
    intake = resident_says(parser, text)
    assert intake.is_request and intake.category == category, intake.reasons


def test_reasons_name_the_deciding_words(parser: IntakeParser) -> None:
    intake = resident_says(parser, "电梯困人了")
    assert "电梯→property" in intake.reasons
    assert any(reason.endswith("→emergency") for reason in intake.reasons)
    assert "谢谢→thanks" in resident_says(parser, "电梯修好了 谢谢").reasons


def test_confidence_is_a_probability(parser: IntakeParser) -> None:
    for text in ("3栋电梯又坏了 老人下不了楼", "收到", "电梯修好了 谢谢物业", ""):
        assert 0.0 <= resident_says(parser, text).confidence <= 1.0


# ---------------------------------------------------------------- vocabulary overrides


def test_merged_with_adds_words_to_an_existing_category() -> None:
    text = "小区的喷泉坏了"
    assert IntakeParser().parse(text).category == "other"
    vocabulary = Vocabulary.default().merged_with(
        {"categories": {"property": {"subjects": ["喷泉"]}}}
    )
    assert IntakeParser(vocabulary).parse(text).category == "property"


def test_merged_with_adds_a_new_category_in_order() -> None:
    vocabulary = Vocabulary.default().merged_with(
        {
            "categories": {
                "pets": {
                    "label_zh": "宠物管理",
                    "label_en": "Pets",
                    "subjects": ["猫咪"],
                    "issues": ["狗狗乱叫"],
                }
            }
        }
    )
    assert tuple(vocabulary.categories)[-1] == "pets"
    assert vocabulary.categories["pets"].label_zh == "宠物管理"
    intake = IntakeParser(vocabulary).parse("隔壁狗狗乱叫一整晚")
    assert intake.is_request and intake.category == "pets", intake.reasons


def test_merged_with_adds_problem_non_request_and_urgency_words() -> None:
    vocabulary = Vocabulary.default().merged_with(
        {
            "signals": {"problems": ["歇菜了"]},
            "non_request": {"thanks": ["感恩"], "notice": ["小喇叭"]},
            "urgency": {"emergency": ["冒蓝光"], "high_rise_floor": 6},
        }
    )
    parser = IntakeParser(vocabulary)
    assert parser.parse("电梯歇菜了").is_request
    assert not parser.parse("小喇叭：电梯歇菜了 明天修").is_request
    assert parser.parse("配电箱冒蓝光").urgency is Urgency.EMERGENCY
    assert parser.parse("电梯坏了 我住7楼").urgency is Urgency.HIGH
    assert not IntakeParser().parse("电梯歇菜了").is_request  # the default is untouched


def test_merged_with_adds_dialect_and_danger_patterns() -> None:
    vocabulary = Vocabulary.default().merged_with(
        {
            "dialect": {"阿拉": "我们"},
            "categories": {"safety": {"emergency_patterns": ["冒蓝[光烟]"]}},
            "urgency": {"high_patterns": ["水压[\\d]+以下"]},
            "non_request": {"resolved_patterns": ["搞好[了啦]"]},
        }
    )
    parser = IntakeParser(vocabulary)
    assert vocabulary.dialect["阿拉"] == "我们"
    assert_ticket(parser.parse("配电箱冒蓝烟"), "safety", Urgency.EMERGENCY)
    assert parser.parse("3栋停水了 水压2以下").urgency is Urgency.HIGH
    assert not parser.parse("电梯坏了好几天 今天搞好啦").is_request


def test_pattern_words_are_one_list_for_every_pattern_that_names_them() -> None:
    vocabulary = Vocabulary.default().merged_with(
        {
            "pattern_words": {"person": ["阿叔"]},
            "urgency": {"emergency_patterns": ["{person}昏低"]},
        }
    )
    parser = IntakeParser(vocabulary)
    assert parser.parse("楼下阿叔昏低了").urgency is Urgency.EMERGENCY
    assert_ticket(parser.parse("阿叔晕了 快来人"), "assistance", Urgency.EMERGENCY)


def test_merged_with_accepts_traditional_words_and_pairs() -> None:
    vocabulary = Vocabulary.default().merged_with(
        {"categories": {"property": {"subjects": ["噴泉"]}}, "traditional": {"chars": "噴喷"}}
    )
    assert IntakeParser(vocabulary).parse("小区的喷泉坏了").category == "property"


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"categorys": {}}, "categorys"),
        ({"categories": []}, "categories"),
        ({"categories": {"property": {"subjects": "电梯"}}}, "categories.property.subjects"),
        ({"categories": {"property": {"subjects": [""]}}}, "categories.property.subjects"),
        ({"categories": {"property": {"subjects": [3]}}}, "categories.property.subjects"),
        ({"categories": {"property": {"colour": "red"}}}, "categories.property.colour"),
        ({"categories": {"pets": {"subjects": ["猫"]}}}, "categories.pets.label_zh"),
        ({"categories": {"Pets!": {"label_zh": "宠物", "label_en": "Pets"}}}, "Pets!"),
        ({"categories": {"property": {"weight": 0}}}, "categories.property.weight"),
        ({"categories": {"property": {"askable": "yes"}}}, "categories.property.askable"),
        ({"categories": {"property": {"patterns": ["(坏"]}}}, "categories.property.patterns"),
        ({"signals": {"problem_patterns": ["(坏)了"]}}, "signals.problem_patterns"),
        ({"signals": {"problem_patterns": ["x*"]}}, "signals.problem_patterns"),
        ({"signals": {"problemz": ["坏"]}}, "signals.problemz"),
        ({"non_request": {"thanks": "谢谢"}}, "non_request.thanks"),
        ({"urgency": {"high_rise_floor": "ten"}}, "urgency.high_rise_floor"),
        ({"traditional": {"chars": "電电电"}}, "traditional.chars"),
        ({"dialect": {"阿拉": 3}}, "dialect.阿拉"),
        ({"categories": {"safety": {"emergency_patterns": ["(冒"]}}}, "emergency_patterns"),
        ({"urgency": {"emergency_patterns": ["(烟)"]}}, "urgency.emergency_patterns"),
        ({"non_request": {"resolved_patterns": ["x?"]}}, "non_request.resolved_patterns"),
        ({"urgency": {"emergency_patterns": ["{ghost}晕了"]}}, "urgency.emergency_patterns"),
        ({"pattern_words": {"Person!": ["人"]}}, "pattern_words.Person!"),
        ({"pattern_words": {"person": "人"}}, "pattern_words.person"),
    ],
)
def test_merged_with_rejects_malformed_overrides(overrides: dict[str, Any], named: str) -> None:
    with pytest.raises(VocabularyError, match=named.replace(".", r"\.").replace("!", "!")):
        Vocabulary.default().merged_with(overrides)


def test_vocabulary_error_is_a_value_error() -> None:
    assert issubclass(VocabularyError, ValueError)


# ---------------------------------------------------------------- robustness


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n\t\r",
        "\x00\x01\x1b[31m",
        "\u200f\u202e3栋电梯坏了\u202c",
        "\u200d\u200d\u200d",
        "👨\u200d👩\u200d👧",
        "\ud800",
        "坏" * 10_000,
        "3栋" * 5_000,
        "1" * 10_000,
        "﷽" * 3_000,
    ],
)
def test_odd_input_never_raises(parser: IntakeParser, text: str) -> None:
    intake = parser.parse(text)
    assert isinstance(intake, Intake)
    assert 0.0 <= intake.confidence <= 1.0


def test_empty_and_whitespace_are_not_requests(parser: IntakeParser) -> None:
    for text in ("", "   ", "\u3000\u3000", "\u200b"):
        assert not parser.parse(text).is_request


def test_invisible_marks_do_not_hide_a_complaint(parser: IntakeParser) -> None:
    intake = parser.parse("3栋电\u200b梯\u200f坏\u200d了")
    assert intake.is_request and intake.category == "property"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_parses(text: str) -> None:
    intake = _SHARED_PARSER.parse(text)
    assert intake.category in CATEGORY_CODES
    assert isinstance(intake.location, Location)
    assert 0.0 <= intake.confidence <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "3栋",
                "电梯",
                "坏了",
                "不",
                "没有",
                "谢谢",
                "通知",
                "着火",
                "-",
                "502",
                "楼",
                "明天",
                " ",
                "🔥",
            ]
        ),
        max_size=30,
    )
)
def test_any_mix_of_signal_words_parses(words: list[str]) -> None:
    text = "".join(words)
    intake = _SHARED_PARSER.parse(text)
    assert _SHARED_PARSER.parse_location(text) == intake.location


_SHARED_PARSER = IntakeParser()


@cache
def _default_patterns() -> tuple[list[str], PatternFinder]:
    patterns = [pattern for pattern, _ in vocabulary_patterns(Vocabulary.default())]
    return patterns, PatternFinder(patterns)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="电梯水管爆了烟好浓孩子不见煤气味没人着火一样3栋 ab", max_size=40))
def test_the_first_character_index_finds_what_one_big_regex_finds(text: str) -> None:
    patterns, finder = _default_patterns()
    one_regex = re.compile("(?=" + "|".join(f"({pattern})" for pattern in patterns) + ")")
    expected = {}
    for found in one_regex.finditer(text):
        index = found.lastindex or 0
        expected[found.start()] = (found.start() + len(found.group(index)), index)
    assert finder.find(text) == expected


@pytest.mark.parametrize(
    "text",
    ["万一电梯困人了怎么办", "如果着火了往哪跑", "楼道堆满杂物 万一着火怎么办 请物业清理"],
)
def test_a_hypothetical_danger_is_no_emergency(parser: IntakeParser, text: str) -> None:
    assert resident_says(parser, text).urgency is not Urgency.EMERGENCY


def test_a_remembered_reading_is_the_reading_itself() -> None:
    """Reading a text again (emergency check, then intake; a flood) equals a fresh read."""
    parser = IntakeParser()
    first = parser.parse("3栋电梯又坏了")
    assert parser.parse("3栋电梯又坏了") is first
    assert parser.parse_fresh("3栋电梯又坏了") == first
    assert parser.parse("3栋电梯又坏了", addressed=True) == parser.parse_fresh(
        "3栋电梯又坏了", addressed=True
    )
