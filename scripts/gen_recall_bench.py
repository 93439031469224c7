#!/usr/bin/env python3
"""Build the paraphrase recall benchmark: fixtures/recall/bench.jsonl (deterministic).

Each case is one chat request body (one JSON object per line): a system prompt, a *fact* stated
by the user in round 1 (with a short acknowledgement), 40-60 rounds of real, unrelated
conversation, and a last user message asking for the fact **in other words**. The `chatctx_bench`
field says which messages hold the fact and what the answer is; `chatctx recall-bench` reads it.

- The facts, the acknowledgements and the questions are written by us (below).
- English filler rounds: fixtures/chitchat/conversations.jsonl (chitchat-dataset 0.9.0, MIT;
  see fixtures/README.md).
- Chinese filler rounds: the Simplified Chinese dialogs of the PyPI package
  chatterbot-corpus 1.3.3 (BSD-3-Clause, (c) 2017 Gunther Cox; licence text in
  fixtures/recall/LICENSE-chatterbot-corpus), `chatterbot_corpus/data/chinese/*.yml`, each
  dialog's lines paired into (user, assistant) rounds, rounds of fewer than 25 characters left
  out (so that 40 rounds are well over the benchmark's 1,024 tokens).

The script checks mechanically that no question repeats a content word of its fact: for English,
no shared word stem outside a stop list; for Chinese, no shared CJK character bigram outside a
stop list, and no shared Latin word or number. It fails (exit 1) naming the offending case.

Run: pip install chatterbot-corpus==1.3.3 pyyaml && python3 scripts/gen_recall_bench.py
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures", "recall", "bench.jsonl")

# (fact, question, answer), English. Written by us.
EN = [
    ("My bicycle lock combination is 4817.", "Which digits open the thing that secures my bike?", "4817"),
    ("My sister's cat is named Pistachio.", "What do we call the feline that belongs to my sibling?", "Pistachio"),
    ("I parked the car on level 3 of the airport garage, spot C12.", "Where exactly did I leave my vehicle when I flew out?", "level 3, C12"),
    ("My dentist appointment is on Thursday at 4 pm.", "When am I supposed to get my teeth checked?", "Thursday 4 pm"),
    ("The wifi password at my cabin is bluefjord77.", "What do I type to get online at my lakeside retreat?", "bluefjord77"),
    ("I am allergic to penicillin.", "Which antibiotic does my body react badly to?", "penicillin"),
    ("My passport expires in March 2027.", "Until when is my travel document valid?", "March 2027"),
    ("My daughter's school play is on the 14th of May.", "On what date does my kid perform on stage with her classmates?", "14 May"),
    ("I keep the spare house key under the blue flowerpot by the back door.", "Where is the extra way into my home hidden?", "under the blue flowerpot"),
    ("My landlord's name is Mr. Okafor.", "Who is the person I pay rent to?", "Okafor"),
    ("My blood type is O negative.", "What kind of group do I belong to if I ever need a transfusion?", "O negative"),
    ("I'm training for the Berlin marathon in September.", "Which long-distance race am I preparing for this autumn?", "Berlin marathon"),
    ("My favourite tea is smoked lapsang souchong.", "What do I most like to brew when I want a hot drink?", "lapsang souchong"),
    ("Our wedding anniversary is October 2nd.", "On what day did my spouse and I get married?", "October 2"),
    ("The plumber is coming Monday morning to fix the leaking sink.", "When will someone repair the dripping basin in my kitchen?", "Monday morning"),
    ("My grandmother grew up in a small village near Porto.", "Where did my dad's mother spend her childhood?", "near Porto"),
    ("I lent my camping stove to Priya last weekend.", "Who borrowed the portable cooker I use outdoors?", "Priya"),
    ("My gym locker number is 212.", "Which cubby do I use at the fitness centre?", "212"),
    ("I can't eat gluten because of coeliac disease.", "Why do I avoid wheat, and what is the condition called?", "coeliac disease"),
    ("My flight to Tokyo leaves at 7:45 on Friday.", "When does my plane to Japan depart?", "Friday 7:45"),
    ("My son's best friend is called Mateo.", "What's the name of the boy my kid is closest to?", "Mateo"),
    ("I store the old tax records in the grey filing cabinet in the attic.", "Where are my past years' government returns kept?", "grey filing cabinet in the attic"),
    ("My car is a dark green 2014 Subaru Outback.", "What vehicle do I drive, and which colour is it?", "dark green Subaru Outback"),
    ("The doctor told me to take vitamin D every morning.", "What supplement did my physician recommend daily after waking?", "vitamin D"),
    ("My niece is turning nine on June 3rd.", "When is my brother's girl's birthday, and how old will she be?", "June 3, nine"),
    ("I switched my phone plan to a provider called Skyline Mobile.", "Which carrier do I now use for my cellular service?", "Skyline Mobile"),
    ("The code for the office alarm is 9031.", "What number disarms the security system at work?", "9031"),
    ("My first dog was a beagle named Biscuit.", "What was my earliest pet pup called, and what breed?", "Biscuit, beagle"),
    ("I'm learning to play the cello.", "Which stringed instrument have I started taking lessons on?", "cello"),
    ("My mother's maiden name is Lindqvist.", "What surname did mum have before she got married?", "Lindqvist"),
    ("My insurance policy number is HX-55210.", "What's the reference on my coverage contract?", "HX-55210"),
    ("I planted tomatoes and basil in the raised bed this spring.", "What did I put in the garden box a few months ago?", "tomatoes and basil"),
    ("My neighbour Tom waters my plants when I travel.", "Who looks after my greenery while I'm away?", "Tom"),
    ("I hate cilantro, it tastes like soap to me.", "Which herb do I find disgusting?", "cilantro"),
    ("My laptop's serial number starts with 5CG.", "How does the identifier on my notebook computer begin?", "5CG"),
    ("Our book club meets on the last Tuesday of each month.", "When does my reading group get together?", "last Tuesday of the month"),
    ("I keep my reading glasses in the top drawer of my desk.", "Where do I put my spectacles for close-up work?", "top drawer of the desk"),
    ("My brother lives in Halifax, Nova Scotia.", "In which Canadian city is my male sibling's home?", "Halifax"),
    ("The boiler was last serviced in January.", "When did someone most recently inspect my heating unit?", "January"),
    ("I'm saving up for a trip to Iceland next summer.", "Which Nordic island do I want to visit, putting money aside for it?", "Iceland"),
    ("My favourite film is Spirited Away.", "Which movie do I love most?", "Spirited Away"),
    ("My shoe size is 44 in European sizing.", "How big are my feet in EU measurements?", "44"),
    ("I take my coffee with oat milk and no sugar.", "How do I like my morning brew prepared?", "oat milk, no sugar"),
    ("My piano teacher is Mrs. Adeyemi.", "Who gives me keyboard instrument lessons?", "Adeyemi"),
    ("The kids' pediatrician is Dr. Hoffman at Elm Street Clinic.", "Which children's physician do we see, and where?", "Dr. Hoffman, Elm Street Clinic"),
    ("My parents' golden anniversary party is on August 9th.", "When is mum and dad's fiftieth wedding celebration?", "August 9"),
    ("I'm afraid of heights, so no glass elevators please.", "What phobia do I have regarding tall places?", "heights"),
    ("My bank branch is on Queen Street.", "Where is the financial institution office I use?", "Queen Street"),
    ("My hamster Nugget escaped and hid behind the fridge for two days.", "Where did my little rodent pet disappear to, and for how long?", "behind the fridge, two days"),
    ("I volunteer at the animal shelter every Saturday.", "On which weekend day do I help out caring for rescued pets?", "Saturday"),
]

# (fact, question, answer), Chinese. Written by us.
ZH = [
    ("我的自行车锁密码是4817。", "能打开我那辆单车防盗装置的数字是多少？", "4817"),
    ("我姐姐的猫叫开心果。", "我家大姐养的那只宠物喵星人名字是什么？", "开心果"),
    ("我把车停在机场停车楼三层C12号位。", "出发坐飞机之前，我的座驾留在了哪个位置？", "三层C12"),
    ("我周四下午四点要去看牙医。", "哪天几点我得去检查牙齿？", "周四下午四点"),
    ("我山间小屋的无线网密码是bluefjord77。", "在林中木屋上网要输入什么口令？", "bluefjord77"),
    ("我对青霉素过敏。", "哪种抗生素会让我身体出现不良反应？", "青霉素"),
    ("我的护照2027年3月到期。", "我出国用的证件有效期到什么时候？", "2027年3月"),
    ("我女儿学校的话剧演出在五月十四日。", "孩子和同学们登台表演是哪一天？", "五月十四日"),
    ("备用钥匙我藏在后门旁边那个蓝色花盆底下。", "进家门的另一把开锁工具被我放在哪儿了？", "后门旁蓝色花盆底下"),
    ("我的房东姓奥卡福。", "每个月收我租金的人是谁？", "奥卡福"),
    ("我的血型是O型阴性。", "如果需要输血，我属于哪种类别？", "O型阴性"),
    ("我在为九月的柏林马拉松做训练。", "今年秋天我准备去德国首都参加哪项长跑比赛？", "柏林马拉松"),
    ("我最爱喝的是正山小种红茶。", "想来一杯热饮时，我偏好哪一款？", "正山小种"),
    ("我们的结婚纪念日是十月二号。", "我和爱人是哪天成的家？", "十月二号"),
    ("水管工周一上午来修漏水的水槽。", "什么时候有师傅上门处理厨房里滴个不停的洗手池？", "周一上午"),
    ("我奶奶是在波尔图附近的一个小村庄长大的。", "我爸爸的妈妈童年在哪里度过？", "波尔图附近"),
    ("上周末我把露营炉借给了普丽娅。", "我那个户外做饭用的便携灶具被谁拿走用了？", "普丽娅"),
    ("我健身房的储物柜号码是212。", "在运动馆我用的是哪一个存包格子？", "212"),
    ("我有乳糜泻，不能吃麸质。", "我为什么要避开小麦面粉做的食物？", "乳糜泻"),
    ("我去东京的航班周五7点45分起飞。", "我飞往日本的那趟班机什么时候出发？", "周五7点45分"),
    ("我儿子最好的朋友叫马特奥。", "跟我家男孩关系最铁的小伙伴名字是什么？", "马特奥"),
    ("旧的报税材料我放在阁楼的灰色文件柜里。", "往年交给税务局的那些单据收在哪儿？", "阁楼灰色文件柜"),
    ("我开的是一辆2014年的深绿色斯巴鲁傲虎。", "我平时驾驶什么牌子的汽车，什么颜色？", "深绿色斯巴鲁傲虎"),
    ("医生让我每天早上吃维生素D。", "大夫建议我起床后补充哪种营养剂？", "维生素D"),
    ("我侄女六月三日满九岁。", "我哥哥家的小姑娘什么时候过生日，会是几岁？", "六月三日，九岁"),
    ("我把手机套餐换到了一家叫天际移动的运营商。", "我现在的电话服务是哪家公司提供的？", "天际移动"),
    ("办公室警报器的密码是9031。", "在单位解除安防系统要输入哪几个数字？", "9031"),
    ("我养的第一条狗是一只叫饼干的比格犬。", "我最早的宠物汪星人叫什么，什么品种？", "饼干，比格犬"),
    ("我在学拉大提琴。", "我最近开始上课练的是哪种弦乐器？", "大提琴"),
    ("我母亲婚前姓林奎斯特。", "妈妈出嫁以前的娘家姓氏是什么？", "林奎斯特"),
    ("我的保险单号是HX-55210。", "我那份保障合同上印的编码由哪些字符组成？", "HX-55210"),
    ("今年春天我在菜园的高床里种了番茄和罗勒。", "几个月前我在院子的种植箱里栽了什么？", "番茄和罗勒"),
    ("我出门旅行时邻居汤姆帮我给花浇水。", "我不在家的时候谁来照顾我的绿植？", "汤姆"),
    ("我讨厌香菜，吃起来像肥皂。", "哪种调味植物让我觉得恶心？", "香菜"),
    ("我笔记本电脑的序列号以5CG开头。", "我那台便携计算机的机身编码前几位是什么？", "5CG"),
    ("我们读书会每月最后一个周二聚会。", "我参加的阅读小组什么时候碰面？", "每月最后一个周二"),
    ("我的老花镜放在书桌最上面的抽屉里。", "我看近处用的眼镜一般收在哪儿？", "书桌最上面的抽屉"),
    ("我哥哥住在加拿大的哈利法克斯。", "我兄长的家在北美哪座城市？", "哈利法克斯"),
    ("锅炉上次保养是在一月份。", "家里的供暖设备最近一回检修是什么时候？", "一月份"),
    ("我在攒钱明年夏天去冰岛旅行。", "我存款打算去看极光的那个北欧岛国是哪里？", "冰岛"),
    ("我最喜欢的电影是《千与千寻》。", "哪部片子是我的心头好？", "千与千寻"),
    ("我的鞋码是欧码44。", "按欧洲标准我的脚穿多大号？", "44"),
    ("我喝咖啡要加燕麦奶，不加糖。", "早上那杯提神饮品我喜欢怎么调？", "燕麦奶，不加糖"),
    ("我的钢琴老师是阿德耶米太太。", "谁在教我弹键盘乐器？", "阿德耶米太太"),
    ("孩子们的儿科医生是榆树街诊所的霍夫曼医生。", "我家小朋友看病找哪位大夫，在哪儿？", "霍夫曼医生，榆树街诊所"),
    ("我父母的金婚派对在八月九日。", "爸妈结婚五十周年的庆祝活动是哪天？", "八月九日"),
    ("我恐高，所以别安排玻璃观光电梯。", "我对什么样的地方会感到害怕？", "高处"),
    ("我开户的银行支行在皇后大街。", "我存钱的那家金融机构网点位于哪条路？", "皇后大街"),
    ("我的仓鼠金块跑丢了，在冰箱后面躲了两天。", "我那只小小的啮齿宠物溜到哪去了，藏了多久？", "冰箱后面，两天"),
    ("我每周六去动物收容所做志愿者。", "每逢周末哪一天我会去帮忙照顾被救助的猫狗？", "周六"),
]

ACK = {"en": "Got it, I'll keep that in mind.", "zh": "好的，我记住了。"}
SYSTEM = {
    "en": "You are a friendly conversation partner. Chat casually and keep your replies short.",
    "zh": "你是一个友好的聊天伙伴，轻松地聊天，回答简短。",
}

EN_STOP = set(
    """a about after again all am an and any are as at be been before being but by can could
    did do does doing for from had has have having he her here hers him his how i if in into is
    it its just me more most my myself no nor not now of on once only or our ours out over own
    same she should so some such than that the their them then there these they this those to
    too under until up very was we were what when where which while who whom why will with would
    you your s t d ll m re ve don can't i'm it's what's i've""".split()
)

# Function-word bigrams that carry no content.
ZH_STOP = {"我的", "我在", "我把", "什么", "是什", "多少", "是多", "哪里", "哪儿", "一个", "我们", "的是"}


def stem(word):
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def en_content(text):
    words = re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))
    return {stem(w) for w in words if w not in EN_STOP}


def zh_content(text):
    bigrams = set()
    for run in re.findall(r"[\u4e00-\u9fff]+", text):
        bigrams.update(run[i : i + 2] for i in range(len(run) - 1))
    latin = {w.lower() for w in re.findall(r"[A-Za-z0-9]+", text)}
    return (bigrams - ZH_STOP) | latin


def check_paraphrase(lang, fact, question):
    content = en_content if lang == "en" else zh_content
    shared = content(fact) & content(question)
    if shared:
        sys.exit(f"{lang}: the question {question!r} repeats {sorted(shared)} of {fact!r}")


def english_rounds():
    rounds = []
    path = os.path.join(ROOT, "fixtures", "chitchat", "conversations.jsonl")
    with open(path, encoding="utf-8") as f:
        for line in f:
            messages = [m for m in json.loads(line)["messages"] if m["role"] != "system"]
            for user, assistant in zip(messages[0::2], messages[1::2]):
                if user["role"] == "user" and assistant["role"] == "assistant":
                    rounds.append((user["content"], assistant["content"]))
    return rounds


def chinese_rounds():
    import glob

    import chatterbot_corpus
    import yaml

    data = os.path.join(os.path.dirname(chatterbot_corpus.__file__), "data", "chinese")
    rounds = []
    for path in sorted(glob.glob(os.path.join(data, "*.yml"))):
        with open(path, encoding="utf-8") as f:
            corpus = yaml.safe_load(f)
        for dialog in corpus.get("conversations") or []:
            lines = [str(line).strip() for line in dialog]
            for user, assistant in zip(lines[0::2], lines[1::2]):
                if user and assistant and len(user) + len(assistant) >= 25:
                    rounds.append((user, assistant))
    return rounds


def build(lang, items, pool, step, spread, fewest):
    cases = []
    for n, (fact, question, answer) in enumerate(items):
        check_paraphrase(lang, fact, question)
        count = fewest + (n * spread) % (61 - fewest)  # fewest..60 filler rounds
        start = (n * step) % len(pool)
        filler = [pool[(start + i) % len(pool)] for i in range(count)]
        messages = [
            {"role": "system", "content": SYSTEM[lang]},
            {"role": "user", "content": fact},
            {"role": "assistant", "content": ACK[lang]},
        ]
        for user, assistant in filler:
            messages.append({"role": "user", "content": user})
            messages.append({"role": "assistant", "content": assistant})
        messages.append({"role": "user", "content": question})
        cases.append(
            {
                "model": "deepseek-v4-flash",
                "thinking": {"type": "disabled"},
                "messages": messages,
                "chatctx_bench": {
                    "id": f"{lang}-{n + 1:02}",
                    "lang": lang,
                    "fact_messages": [1, 2],
                    "fact": fact,
                    "question": question,
                    "answer": answer,
                    "filler_rounds": count,
                },
            }
        )
    return cases


def main():
    en_pool = english_rounds()
    zh_pool = chinese_rounds()
    cases = build("en", EN, en_pool, step=9, spread=7, fewest=40)
    # Chinese rounds are shorter: 50 to 60 of them, so that the fact is out of 1,024 tokens.
    cases += build("zh", ZH, zh_pool, step=5, spread=11, fewest=50)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(
        f"wrote {len(cases)} cases to {os.path.relpath(OUT, ROOT)} "
        f"(pools: {len(en_pool)} English, {len(zh_pool)} Chinese rounds)"
    )


if __name__ == "__main__":
    main()
