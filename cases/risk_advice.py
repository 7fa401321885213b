"""The prevention catalogue of the risk report, in English and Simplified Chinese.

Causes are free text in the loss report; `cause_family` maps them to the families the advice is
written for (keywords, first match wins, per line). Findings say what the case's data show;
advice says what to do; a property loss also gets the checklist of its cause.
"""

# The Chinese texts use full-width punctuation on purpose.
# ruff: noqa: RUF001
from __future__ import annotations

from typing import Final

from cases.texts import lang_of

CAUSE_KEYWORDS: Final[dict[str, tuple[tuple[str, tuple[str, ...]], ...]]] = {
    "property": (
        ("fire", ("fire", "smoke", "electric", "burn", "火")),
        ("water", ("water", "leak", "pipe", "burst", "plumb", "damp", "水", "漏")),
        ("theft", ("theft", "burglar", "break-in", "break in", "stolen", "robbery", "盗", "窃")),
        ("storm", ("storm", "wind", "hail", "lightning", "flood", "typhoon", "snow", "风", "雹", "雷", "洪")),
    ),
    "motor": (
        ("storm", ("hail", "storm", "flood", "typhoon", "wind", "雹", "洪", "风")),
        ("theft", ("theft", "stolen", "break-in", "盗", "窃")),
        ("vandalism", ("vandal", "破坏")),
        ("animal", ("animal", "deer", "boar", "动物")),
        ("glass", ("glass", "windscreen", "windshield", "玻璃")),
        ("fire", ("fire", "火")),
        ("parking", ("parking", "scrape", "revers", "停车", "倒车")),
        ("collision", ("collision", "crash", "rear", "accident", "impact", "碰撞", "追尾", "事故")),
    ),
    "health": (
        ("fall", ("fall", "slip", "trip", "跌", "摔")),
        ("sport", ("sport", "football", "soccer", "running", "ski", "gym", "basketball", "运动")),
        ("work", ("work", "lifting", "occupational", "工作", "工伤")),
        ("traffic", ("traffic", "car", "road", "collision", "交通", "车祸")),
    ),
}

CHECKLISTS: Final[dict[str, tuple[str, ...]]] = {
    "fire": ("fire.wiring", "fire.extinguishers", "fire.alarms", "fire.sockets", "fire.kitchen", "fire.escape"),
    "water": ("water.pipes", "water.hoses", "water.sensors", "water.valve", "water.frost", "water.roof"),
    "theft": ("theft.locks", "theft.alarm", "theft.lighting", "theft.presence", "theft.safe", "theft.inventory"),
    "storm": ("storm.roof", "storm.outdoor", "storm.trees", "storm.surge", "storm.flood", "storm.alerts"),
    "other": ("other.inspection", "other.inventory", "other.contacts"),
}

MOTOR_ADVICE: Final[dict[str, tuple[str, ...]]] = {
    "collision": ("motor.distance", "motor.adas"),
    "parking": ("motor.parking_aids", "motor.parking_spot"),
    "storm": ("motor.covered", "motor.flood_water"),
    "theft": ("motor.immobiliser", "motor.valuables"),
    "vandalism": ("motor.lit_parking",),
    "animal": ("motor.dusk",),
    "glass": ("motor.chips",),
    "fire": ("motor.electrics",),
    "other": ("motor.defensive",),
}

HEALTH_CAUSE_ADVICE: Final[dict[str, tuple[str, ...]]] = {
    "fall": ("health.home_safety",),
    "sport": ("health.warm_up",),
    "work": ("health.ergonomics",),
    "traffic": ("health.seat",),
    "other": ("health.keep_moving",),
}

TEXTS: Final[dict[str, dict[str, str]]] = {
    "en": {
        "title": "Risk and prevention report",
        "summary": "{line} claim {claim_id}: {cause} ({severity}).",
        # health findings and advice
        "f.health.no_data": "No monitoring data yet: the wearable has not reported a full day.",
        "f.health.adherence": "Exercise adherence averaged {mean:.0%} over {days} day(s) (last 7 days: {last:.0%}).",
        "f.health.hr_trend": "Resting heart rate moved {slope:+.1f} bpm per week over {days} day(s) "
        "(from {first:.0f} to {last:.0f} bpm).",
        "f.health.falls": "{falls} fall(s) were detected.",
        "f.health.desaturations": "{count} drop(s) in blood oxygen were detected.",
        "f.health.alerts": "Alerts raised: {alerts}.",
        "a.health.adherence_low": "Adherence is low: plan sessions at a fixed time, set reminders, and tell your "
        "rehab manager what gets in the way so the plan can be eased.",
        "a.health.adherence_fair": "Adherence is fair: keep a regular routine; short daily sessions beat long "
        "occasional ones.",
        "a.health.hr_rising": "Your resting heart rate is rising: sleep, stress, illness or overtraining can "
        "cause it. Ease intensity and talk to your rehab manager or doctor.",
        "a.health.falls": "Falls were detected: remove loose rugs and cables, add night lights and grab bars in "
        "the bathroom, wear non-slip shoes, and keep your phone within reach.",
        "a.health.desaturation": "Oxygen drops were detected: have them checked by a doctor, and stop exercising "
        "if you feel short of breath or dizzy.",
        "a.health.home_safety": "Falls at home are preventable: good lighting on stairs, handrails on both sides, "
        "non-slip mats, and a clear path to the bathroom at night.",
        "a.health.warm_up": "Before returning to sport: warm up for 10 minutes, rebuild load gradually (no more "
        "than 10 % a week), and strengthen the injured area.",
        "a.health.ergonomics": "At work: lift with your legs and the load close to you, ask for lifting aids, "
        "and take short breaks from repetitive tasks.",
        "a.health.seat": "In the car: adjust the headrest to the top of your head and sit upright close to the "
        "wheel; it reduces whiplash injuries.",
        "a.health.keep_moving": "Keep moving within your heart-rate zone and follow your plan's progression.",
        # motor findings and advice
        "f.motor.damage": "{severity} damage to a {vehicle}; repair type {repair_type}.",
        "f.motor.no_job": "No repair job is linked to this case yet.",
        "f.motor.late_stages": "Stages that ran late: {stages}.",
        "f.motor.on_time": "Every stage ran within its expected time.",
        "f.motor.holds": "The repair was put on hold: {reasons}.",
        "f.motor.delivered_late": "The car was delivered {days:.1f} day(s) after the promised date.",
        "f.motor.alerts": "Alerts raised: {alerts}.",
        "a.motor.distance": "Keep at least a three-second gap to the car ahead, more in rain; most collisions "
        "are rear-end ones.",
        "a.motor.adas": "Make sure the driver-assistance sensors were recalibrated after the repair; "
        "emergency braking depends on them.",
        "a.motor.parking_aids": "Parking sensors or a reversing camera prevent most parking damage.",
        "a.motor.parking_spot": "Choose wide or end spaces and reverse in, so you drive out forwards with a "
        "clear view.",
        "a.motor.covered": "Park under cover when hail or storms are forecast, and subscribe to weather alerts.",
        "a.motor.flood_water": "Never drive through flood water: 30 cm of moving water can float a car.",
        "a.motor.immobiliser": "Use an approved immobiliser or steering lock and consider a tracker; keep "
        "keyless keys in a signal-blocking pouch.",
        "a.motor.valuables": "Leave nothing visible in the car.",
        "a.motor.lit_parking": "Park in lit, busy or secured places.",
        "a.motor.dusk": "Slow down at dusk and dawn on roads with wildlife signs; brake firmly rather than swerve.",
        "a.motor.chips": "Have windscreen chips repaired at once, before they spread into cracks.",
        "a.motor.electrics": "Have the electrics checked at each service and carry a small fire extinguisher.",
        "a.motor.defensive": "A defensive driving course lowers the risk of the next claim.",
        "a.motor.alignment": "After a {severity} repair, have the wheel alignment and driver-assistance "
        "calibration checked after about 500 km.",
        # property
        "f.property.cause": "Loss caused by {cause}: the checklist below targets that cause.",
        "f.recurring": "This cause has led to {n} claims: preventing it matters.",
        "a.property.review": "Go through the checklist below; a risk review visit will check it with you.",
        "fire.wiring": "Have the wiring inspected by a qualified electrician (every 5 years, or now if it is "
        "over 25 years old).",
        "fire.extinguishers": "Keep a fire extinguisher and a fire blanket in the kitchen and an extinguisher "
        "on each floor; check them every year.",
        "fire.alarms": "Fit smoke alarms on every floor and a heat alarm in the kitchen; test them monthly.",
        "fire.sockets": "Do not overload sockets or chain extension leads; unplug chargers when not in use.",
        "fire.kitchen": "Never leave cooking unattended; keep the hood filter clean.",
        "fire.escape": "Agree an escape route with everyone at home and keep keys near the exit.",
        "water.pipes": "Check visible pipes and joints for corrosion and drips twice a year.",
        "water.hoses": "Replace washing-machine and dishwasher hoses every 5 years.",
        "water.sensors": "Put leak sensors under sinks, the boiler and appliances.",
        "water.valve": "Know where the main shut-off valve is, test it yearly, or fit an automatic shut-off valve.",
        "water.frost": "Insulate pipes in unheated spaces and keep the heating on low when away in winter.",
        "water.roof": "Clear gutters and check the roof and seals after winter.",
        "theft.locks": "Fit certified locks on doors and windows, including on the ground floor.",
        "theft.alarm": "Install a monitored alarm and use it every time you leave.",
        "theft.lighting": "Light the outside with motion-sensor lamps.",
        "theft.presence": "Make the home look occupied: timers on lights, mail collected.",
        "theft.safe": "Keep valuables and documents in a fixed safe.",
        "theft.inventory": "Keep photos and serial numbers of valuable items.",
        "storm.roof": "Have the roof, flashing and gutters checked before the storm season.",
        "storm.outdoor": "Secure or bring in garden furniture and loose items when storms are forecast.",
        "storm.trees": "Trim trees and branches that overhang the house.",
        "storm.surge": "Protect electronics with surge protectors; unplug them in lightning storms.",
        "storm.flood": "Raise valuables off the floor in flood-prone rooms; consider flood barriers.",
        "storm.alerts": "Subscribe to the weather service's alerts.",
        "other.inspection": "Inspect the home once a year: roof, wiring, plumbing, locks.",
        "other.inventory": "Keep an up-to-date inventory with photos.",
        "other.contacts": "Keep emergency numbers (insurer, plumber, electrician) at hand.",
        "cause.fire": "fire",
        "cause.water": "water damage",
        "cause.theft": "theft",
        "cause.storm": "storm",
        "cause.collision": "collision",
        "cause.parking": "parking damage",
        "cause.vandalism": "vandalism",
        "cause.animal": "collision with an animal",
        "cause.glass": "glass damage",
        "cause.fall": "a fall",
        "cause.sport": "a sports injury",
        "cause.work": "an injury at work",
        "cause.traffic": "a traffic accident",
        "cause.other": "other causes",
        "h.findings": "What the case's data show",
        "h.advice": "Prevention advice",
        "h.checklist": "Checklist",
        "h.loss": "Loss",
        "h.cause": "Cause",
        "h.severity": "Severity",
        "h.generated": "Generated",
        "h.claim": "Claim",
        "h.case": "Case",
        "priority.high": "high",
        "priority.medium": "medium",
        "priority.low": "low",
    },
    "zh": {
        "title": "风险与预防报告",
        "summary": "{line}理赔 {claim_id}：{cause}（{severity}）。",
        "f.health.no_data": "暂无监测数据：可穿戴设备尚未上报完整一天的数据。",
        "f.health.adherence": "{days}天内训练依从率平均为{mean:.0%}（最近7天：{last:.0%}）。",
        "f.health.hr_trend": "{days}天内静息心率每周变化{slope:+.1f}次/分（由{first:.0f}变为{last:.0f}次/分）。",
        "f.health.falls": "检测到{falls}次跌倒。",
        "f.health.desaturations": "检测到{count}次血氧下降。",
        "f.health.alerts": "已触发的警报：{alerts}。",
        "a.health.adherence_low": "依从率偏低：请固定训练时间、设置提醒，并告诉康复经理遇到的困难，以便调整计划。",
        "a.health.adherence_fair": "依从率一般：请保持规律；每天短时训练胜过偶尔长时间训练。",
        "a.health.hr_rising": "您的静息心率在上升：睡眠、压力、疾病或过度训练都可能导致。"
        "请降低强度，并与康复经理或医生沟通。",
        "a.health.falls": "检测到跌倒：请移除松动的地毯和电线，在浴室安装夜灯和扶手，穿防滑鞋，并把手机放在手边。",
        "a.health.desaturation": "检测到血氧下降：请就医检查；如感到气短或头晕，请立即停止运动。",
        "a.health.home_safety": "居家跌倒是可以预防的：楼梯照明充足、两侧安装扶手、使用防滑垫，"
        "夜间保持通往浴室的通道畅通。",
        "a.health.warm_up": "恢复运动前：热身10分钟，逐步增加负荷（每周不超过10%），并加强受伤部位的力量。",
        "a.health.ergonomics": "工作中：用腿部发力、让重物贴近身体，使用搬运辅助工具，重复性工作要适时休息。",
        "a.health.seat": "乘车时：将头枕调至头顶高度，坐直并靠近方向盘，可减少颈部挥鞭伤。",
        "a.health.keep_moving": "请在心率区间内保持活动，并按计划逐步进阶。",
        "f.motor.damage": "{vehicle}{severity}损坏；维修类型：{repair_type}。",
        "f.motor.no_job": "本案件尚未关联维修工单。",
        "f.motor.late_stages": "延误的维修阶段：{stages}。",
        "f.motor.on_time": "所有维修阶段均在预期时间内完成。",
        "f.motor.holds": "维修曾暂停：{reasons}。",
        "f.motor.delivered_late": "车辆比承诺日期晚{days:.1f}天交付。",
        "f.motor.alerts": "已触发的警报：{alerts}。",
        "a.motor.distance": "与前车保持至少三秒的车距，雨天更长；大多数碰撞是追尾。",
        "a.motor.adas": "请确认维修后驾驶辅助传感器已重新校准；紧急制动依赖于它们。",
        "a.motor.parking_aids": "倒车雷达或倒车影像可避免大多数停车剐蹭。",
        "a.motor.parking_spot": "选择宽敞或靠边的车位并倒车入库，出库时视野更好。",
        "a.motor.covered": "预报有冰雹或暴风雨时请停在有遮蔽处，并订阅天气预警。",
        "a.motor.flood_water": "切勿驶入积水：30厘米的流水就能让汽车漂起。",
        "a.motor.immobiliser": "使用认证的防盗锁止装置或方向盘锁，考虑安装定位器；无钥匙进入的钥匙请放在屏蔽袋中。",
        "a.motor.valuables": "车内不要留下任何可见物品。",
        "a.motor.lit_parking": "请停在照明良好、人流较多或有安保的地方。",
        "a.motor.dusk": "黄昏和清晨在有野生动物标志的路段减速；紧急时果断制动而不要急打方向。",
        "a.motor.chips": "挡风玻璃出现小坑请立即修补，以免扩展成裂纹。",
        "a.motor.electrics": "每次保养时检查电路，并在车内备一个小型灭火器。",
        "a.motor.defensive": "参加防御性驾驶课程可降低再次出险的风险。",
        "a.motor.alignment": "{severity}维修后，请在行驶约500公里后检查四轮定位和驾驶辅助系统校准。",
        "f.property.cause": "损失原因为{cause}：以下清单针对该原因。",
        "f.recurring": "该原因已导致{n}次索赔：预防尤为重要。",
        "a.property.review": "请对照以下清单逐项检查；风险评估人员上门时将与您一起核对。",
        "fire.wiring": "请有资质的电工检查线路（每5年一次；线路超过25年请立即检查）。",
        "fire.extinguishers": "厨房配备灭火器和灭火毯，每层配备灭火器；每年检查一次。",
        "fire.alarms": "每层安装烟雾报警器，厨房安装感温报警器；每月测试。",
        "fire.sockets": "插座不要超负荷，不要串接插线板；充电器不用时拔下。",
        "fire.kitchen": "烹饪时不要离开；保持油烟机滤网清洁。",
        "fire.escape": "与家人约定逃生路线，钥匙放在出口附近。",
        "water.pipes": "每年两次检查明管和接头是否腐蚀、滴漏。",
        "water.hoses": "洗衣机和洗碗机的水管每5年更换一次。",
        "water.sensors": "在水槽、热水器和电器下方安装漏水传感器。",
        "water.valve": "了解总阀位置并每年测试，或安装自动关断阀。",
        "water.frost": "对无暖气空间的水管做保温；冬季外出时保持低温供暖。",
        "water.roof": "冬季过后清理排水沟并检查屋顶和密封。",
        "theft.locks": "门窗（包括一楼）安装认证锁具。",
        "theft.alarm": "安装联网报警系统，每次外出都启用。",
        "theft.lighting": "室外安装感应灯。",
        "theft.presence": "营造有人在家的样子：灯光定时器、及时取信。",
        "theft.safe": "贵重物品和证件放入固定的保险箱。",
        "theft.inventory": "保存贵重物品的照片和序列号。",
        "storm.roof": "暴风季前检查屋顶、泛水和排水沟。",
        "storm.outdoor": "预报有暴风时固定或收回庭院家具和零散物品。",
        "storm.trees": "修剪伸向房屋的树木和枝条。",
        "storm.surge": "电子设备使用防浪涌插座；雷雨时拔下电源。",
        "storm.flood": "易淹房间的贵重物品要离地存放；考虑安装挡水板。",
        "storm.alerts": "订阅气象部门的预警信息。",
        "other.inspection": "每年检查一次房屋：屋顶、线路、水管、门锁。",
        "other.inventory": "保存最新的财产清单和照片。",
        "other.contacts": "常备紧急联系电话（保险公司、水管工、电工）。",
        "cause.fire": "火灾",
        "cause.water": "水渍",
        "cause.theft": "盗窃",
        "cause.storm": "暴风雨",
        "cause.collision": "碰撞",
        "cause.parking": "停车剐蹭",
        "cause.vandalism": "人为破坏",
        "cause.animal": "撞击动物",
        "cause.glass": "玻璃破损",
        "cause.fall": "跌倒",
        "cause.sport": "运动损伤",
        "cause.work": "工伤",
        "cause.traffic": "交通事故",
        "cause.other": "其他原因",
        "h.findings": "案件数据显示",
        "h.advice": "预防建议",
        "h.checklist": "检查清单",
        "h.loss": "损失",
        "h.cause": "原因",
        "h.severity": "程度",
        "h.generated": "生成时间",
        "h.claim": "理赔",
        "h.case": "案件",
        "priority.high": "高",
        "priority.medium": "中",
        "priority.low": "低",
    },
}


def cause_family(line: str, cause: str) -> str:
    """The family of a free-text cause for this line ('other' when nothing matches)."""
    text = cause.casefold()
    for family, words in CAUSE_KEYWORDS.get(line, ()):
        if any(w in text for w in words):
            return family
    return "other"


def text(lang: str, key: str, **values: object) -> str:
    table = TEXTS[lang_of(lang)]
    return (table.get(key) or TEXTS["en"][key]).format(**values)
