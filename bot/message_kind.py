"""What kind of message a citizen wrote, from cues that hold for real letters of any length.

The intent classifier learns from short written examples. Real messages to a city are often
letters: a subject line, "尊敬的领导：", several sentences of narrative with place names, dates
and masked phone numbers, and a closing plea ("望有关部门尽快处理"). Such a letter is a request
for action even where one sentence in it reads like a policy question, and it is not a status
look-up just because it says "至今没有进展". This module names the cues; the NLU component
`bot.components.message_kind` uses them to correct the classifier, and the actions use them to
make sure a request never gets a policy passage. Shared by both sides, so it imports nothing
but `bot.text`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.text import normalize

# An application number or ticket reference, however typed (see actions/references.py).
_REFERENCE = re.compile(
    r"(?<![a-z0-9])(?:gov[\s\-_.]*\d{4}[\s\-_.]*\d{6}|t[\s\-_.]*20\d{6}[\s\-_.]*\d{6})(?!\d)"
    r"|(?:申请号|受理号|工单号|办件号|业务编号|受理编号|reference|application (?:no|number)"
    r"|ticket (?:no|number))\D{0,6}\d{4,}"
)
# Asking where a case stands (on normalised, Simplified, lower-cased text).
_STATUS_WORDS = re.compile(
    r"进度|办到哪|到哪一步|审批到|审核到|办理状态|处理状态|审批状态|结果出来|办好了没|办下来没"
    r"|\bstatus\b|\bprogress\b|where is my (?:application|ticket|case)|has my application"
    r"|is my application|track my"
)
# A plea for someone to act, a grievance, a report of something wrong, or a suggestion.
_REQUEST_CUES_ZH = re.compile(
    r"投诉|举报|反映|反应|曝光|维权|恳请|恳求|请求|呼吁|强烈要求|要求.{0,8}(?:退|赔|解决|处理|查处|整改|公开)"
    r"|(?:希望|请|望|盼|求|恳请|麻烦)(?:.{0,12})(?:解决|处理|查处|整治|整改|管管|管一管|重视|落实|督促"
    r"|介入|核实|调查|取缔|维修|修复|修好|清理|答复|回复|帮助|帮忙|关注|考虑|协调|制止|监管|公开|给个说法"
    r"|加快|尽快|加强|出台|完善|建立|规范|改善|改进)"
    r"|有关部门|相关部门|职能部门|主管部门"
    r"|扰民|噪音|噪声|污染|异味|臭味|黑烟|偷排|乱排|乱倒|垃圾成堆|积水|漏水|停水|停电|断水"
    r"|拖欠|欠薪|克扣|(?:不|没|未)(?:有)?(?:给(?:我|我们|员工|职工|工人)?)?(?:发|交|缴|缴纳|付|支付|退)"
    r"(?:工资|社保|保险|医保|公积金|加班费|押金|工钱)"
    r"|乱收费|多收费|收费乱|强制收|强行收|私自收"
    r"|违规|违法|违章|违建|乱搭|乱建|占道|霸占|侵占|强拆|不作为|推诿|踢皮球|敷衍"
    r"|坏了|损坏|破损|坍塌|塌陷|堵塞|失修|年久|隐患|安全问题"
    r"|无人管|没人管|没有人管|不管不问|置之不理|多次(?:反映|投诉|打电话|联系|找|要求|交涉|举报)"
    r"|(?:至今|迟迟|一直|始终)(?:都)?(?:没|未|不|还没)(?:有)?(?:人|任何|解决|处理|回复|答复|落实|到位"
    r"|修|管|进展|结果|下文|消息|动静|动工|复工|发放|兑现|退|赔)"
    r"|欺骗|诈骗|欺诈|虚假|假冒|被骗|骗取|辞退|开除|无故|不给办|不予办理|刁难|建议"
    r"|私自|擅自|偷偷|拒载|拒收|拒绝|焚烧|赌博|聚赌|猖狂|敲诈|勒索|治理|整顿|视而不见"
    r"|负担不起|太贵|涨价|不合理|不公平|不公正|危险|无证|没证|黑车|黑诊所|扬尘|油烟|堵路"
    r"|为什么.{0,20}(?:不|没)|严查|严惩"
    r"|严重|不安全|为何|管不管|屡禁不止|苦不堪言|拖延|态度(?:差|恶劣|不好)|效率(?:低|太低)|不负责"
    r"|请.{0,6}(?:优化|增设|增加|修建|建设|安装|开通|取消|规范|加强|尽快|早日|帮忙|帮助)"
)
_REQUEST_CUES_EN = re.compile(
    r"\b(?:complain\w*|report(?:ing)?|petition|urge|demand|appeal)\b"
    r"|\bplease\b.{0,40}\b(?:fix|repair|look into|investigate|deal with|stop|sort|check|help"
    r"|send|handle|act|do something|intervene|clean|remove|resolve)\b"
    r"|\b(?:broken|not working|out of order|damaged|collapsed|blocked|flooded|leaking)\b"
    r"|\b(?:illegal(?:ly)?|unlicensed|noise|noisy|pollut\w+|dumping|smell|stink\w*|fumes)\b"
    r"|\b(?:no one|nobody) (?:cares|came|comes|has (?:come|fixed|done|responded|replied)|responds"
    r"|replies|answers|fixed|does anything|is doing|will|listens|helps|took|takes)\b"
    r"|\b(?:unpaid|owed|overcharg\w+|refus\w+|ignored|still (?:no|not)"
    r"|has not been|hasn't been|have not been|haven't been"
    r"|dangerous|hazard\w*|unfair\w*|dismissed|fired|deduct\w*|docked|withh[eo]ld\w*"
    r"|cheat\w*|scam\w*|fraud\w*)\b"
    # someone who owes the citizen something and does not give it: "hasn't paid my wages"
    r"|\b(?:has|have|had|did|does|do|will|would|is|are)(?:n't| not| never) (?:paid|pay|paying"
    r"|returned|return|refunded|refund|fixed|fix|repaired|repair|responded|respond|replied)\b"
    r"|\b(?:never|won't|refuses to|refused to) (?:paid|pay|returned|return|refunded|refund"
    r"|fixed|fix|repaired|repair|responded|replied)\b"
    # "won't give my deposit back", "never gave it back": something of theirs kept from them
    r"|\b(?:won't|wouldn't|will not|would not|refuses? to|refused to|didn't|did not|doesn't"
    r"|does not|hasn't|has not|haven't|have not|never) (?:give|gave|given)\b.{0,30}\bback\b"
    r"|\bdear (?:sir|madam|leader|leaders|officials?|mayor)\b|\bauthorities\b"
    r"|\b(?:i|we) (?:would like|want|hope|ask|request)\b.{0,30}\b(?:to (?:fix|stop|investigate"
    r"|deal|act|help|check|solve)|someone|the (?:city|government|department|bureau))\b"
    r"|\bsuggest\w*\b|\b(?:refus\w+|reject\w*|gambling|burning|too expensive"
    r"|no staff|unsafe|dirty|rubbish|garbage|trash|potholes?)\b"
    r"|\bwhy (?:does|do|is|are|can't|won't|hasn't|haven't|isn't|aren't)\b"
    r"|\bplease (?:add|build|install|improve|open|cancel|regulate|strengthen|consider)\b"
)
# Words that mark a letter's narrative and often go with a grievance, but as often with a
# citizen's own situation before a question ("一直没有领过高龄津贴。请问怎么申请？", "I have
# lived here for two years. How do I apply…"): a request cue only where no service question
# is asked.
_CONTEXT_CUES = re.compile(
    r"至今|迟迟|一直没|一直不|多次|屡次|反复|希望|盼望|期望|能否|可否|能不能|应该|困难|急需|亟需"
    r"|怎么办(?![理证手])|\bwhat (?:should|can|do) (?:i|we) do\b(?! to\b)"
    r"|\bfor (?:a |one |two |three |four |several |many |\d+ )?(?:weeks?|months?|days?|years?)\b"
    r"|\b(?:should|urgent\w*|no one|nobody)\b"
)
# A question about a public service: how, what to bring, where, how long, how much, whether.
_SERVICE_QUESTION = re.compile(
    r"请问|想问|问一下|咨询一下|如何|怎么(?:办理|办证|申请|领取|领|缴纳|缴|交|补办|查询|报名|预约|转|提取"
    r"|使用|认定|注册|登记|续)"
    r"|需要(?:什么|哪些|准备|带|提供|满足)|要(?:带|准备|提供)(?:什么|哪些)|什么(?:材料|条件|手续|证件)"
    r"|哪些(?:材料|条件|手续|证件)|(?:在|去)哪(?:里|儿)?(?:办|申请|领|交|报名|登记)|多久|多长时间"
    r"|多少钱|费用是多少|标准是多少|(?:可以|能)(?:申请|领|办|用|享受|报销).{0,16}吗|有没有.{0,16}(?:补贴|津贴"
    r"|政策|服务|补助)|是否可以|条件是什么"
    r"|\bhow (?:do|can|should|would|long|much|many) \w+"
    r"|\bwhat (?:documents|papers|do i|do we|are the|is the)\b"
    # "what should I do to claim…" asks about a service; a bare "what should I do" is 怎么办
    r"|\bwhat should (?:i|we)\b(?! do\b(?! to\b))"
    r"|\bwhere (?:do|can|should) (?:i|we)\b|\b(?:can|could|may) (?:i|we|my|he|she)\b"
    r"|\bam i (?:allowed|eligible)\b|\b(?:is|are) (?:there|we|they) (?:any|eligible)\b"
    r"|\bdo (?:i|we) (?:need|have to)\b|\bwhich (?:office|documents|permits?|forms?)\b"
)
# What a question about the rules asks ("…政策是怎么规定的？", "what does the law say"): with a
# service question, what makes one sentence of a request worth a policy passage.
_RULES_QUESTION = re.compile(
    r"政策|规定|法规|法律|条例|办法|标准|合法|违法|依据|权益|补偿|赔偿|怎么处理|如何处理|怎么办"
    r"|\b(?:polic(?:y|ies)|rules?|regulations?|laws?|legal|illegal|entitled|rights?"
    r"|compensation|allowed)\b"
)
_ASKING = re.compile(r"请问|想问|我想知道|想咨询|咨询一下")
_POINTS_BACK = re.compile(r"这样|这种|这个|这些|那样|此类|\b(?:this|that|these|it)\b",
                          re.IGNORECASE)
# Letter form: a salutation or a closing plea.
_SALUTATION = re.compile(
    r"^\s*(?:尊敬的|敬爱的|各位|亲爱的)?[^\s，,：:]{0,12}(?:领导|书记|市长|县长|区长|局长|主任|同志|工作人员)"
    r"(?:们)?\s*(?:您好|你们好|好)?\s*[:：,，!！]"
    r"|^\s*dear\b|\bto whom it may concern\b"
)
# A Han character, or an English word: the length of a message as a reader feels it.
_HAN = re.compile(r"[\u4e00-\u9fff]")
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
_SENTENCE_END = re.compile(r"[。！？!?；;]|\.(?:\s|$)|\n")
# A sentence that ends with a question mark: no other sentence end before it.
_QUESTION_SENTENCE = re.compile(rf"(?:(?!{_SENTENCE_END.pattern}).)*[？?]")
# Long enough to be a narrative rather than a one-line question: in Han characters and in words.
LONG_HAN, LONG_WORDS = 40, 25
# Shorter than this, even two cues ("怎么投诉噪音扰民") are left to the intent classifier.
SHORT_HAN, SHORT_WORDS = 15, 10


@dataclass(frozen=True)
class MessageKind:
    """Cues found in one message; `is_request` and `is_status_lookup` are the decisions."""

    han: int  # Han characters
    words: int  # English words
    sentences: int
    request_cues: int  # grievance, plea, report or suggestion
    context_cues: int  # narrative words that are a request cue only without a service question
    service_question: bool
    salutation: bool
    reference: bool
    status_words: bool

    @property
    def is_long(self) -> bool:
        return self.han >= LONG_HAN or self.words >= LONG_WORDS or self.sentences >= 3

    @property
    def is_request(self) -> bool:
        """A narrative asking someone to act: long, and a grievance, plea or letter form; or
        shorter with two cues ("我要投诉物业乱收费，这是怎么规定的？"). A citizen who tells their
        own story and then asks how a service works is asking a question: narrative words alone
        ("一直没有领过…请问怎么申请？") do not make it a request. A message that names a
        reference is about that case, not a new request."""
        if self.reference:
            return False
        context = 0 if self.service_question else self.context_cues
        if self.is_long:
            return self.request_cues + context >= 1 or self.salutation
        return self.request_cues + context >= 2 and (self.han >= SHORT_HAN
                                                     or self.words >= SHORT_WORDS)

    @property
    def is_grievance(self) -> bool:
        """A grievance cue and no question about how a service works: the cue that decides a
        near tie between a request and a question (bot/components/message_kind.py)."""
        return bool(self.request_cues) and not self.service_question

    @property
    def is_status_lookup(self) -> bool:
        """A look-up needs a reference, or explicit status words in a message that is not
        also a grievance ("办了三个月还没下来，请督促" is a complaint)."""
        if self.reference:
            return True
        return self.status_words and self.request_cues + self.context_cues == 0


def han_count(folded: str) -> int:
    """Han characters in normalised text (`bot.text.normalize`)."""
    return len(_HAN.findall(folded))


def english_words(folded: str) -> list[str]:
    """English words in normalised, lower-cased text ("i'm" is one)."""
    return _WORD.findall(folded)


def _cues(folded: str) -> int:
    return len(_REQUEST_CUES_ZH.findall(folded)) + len(_REQUEST_CUES_EN.findall(folded))


def request_cue_count(text: str) -> int:
    """How many grievance, plea, report or narrative cues the text has (any language, any
    script): which sentence of a letter states the problem."""
    folded = normalize(text or "")
    return _cues(folded) + len(_CONTEXT_CUES.findall(folded))


def classify(text: str) -> MessageKind:
    folded = normalize(text or "")
    han = han_count(folded)
    words = len(english_words(folded))
    pieces = [piece for piece in _SENTENCE_END.split(folded) if len(piece.strip()) >= 4]
    return MessageKind(
        han=han, words=words, sentences=len(pieces), request_cues=_cues(folded),
        context_cues=len(_CONTEXT_CUES.findall(folded)),
        service_question=bool(_SERVICE_QUESTION.search(folded)),
        salutation=bool(_SALUTATION.search(folded)), reference=bool(_REFERENCE.search(folded)),
        status_words=bool(_STATUS_WORDS.search(folded)),
    )


def question_part(text: str) -> str | None:
    """The sentence of a request that asks about the rules or a service ("我们公司三个月没发工资
    了……请问拖欠工资政策是怎么规定的？"), in the citizen's own words; None when it asks none.
    The request is handled as a request; this is what a passage may answer beside it."""
    for match in reversed(list(_QUESTION_SENTENCE.finditer(text or ""))):
        whole = match.group(0).strip(" ，,、：:")
        asking = _ASKING.search(whole)
        # "…不给，请问拖欠工资政策是怎么规定的？": from the asking words on; else the last clause
        part = whole[asking.start():] if asking else re.split(r"[，,]", whole)[-1].strip()
        # …when the sentence is long, and the part does not point back at the complaint
        # ("请问这样合法吗？"); else the whole sentence, which names what is asked about
        folded = normalize(whole)
        long = han_count(folded) >= LONG_HAN or len(english_words(folded)) >= LONG_WORDS
        sentence = part if long and _asks(part) and not _POINTS_BACK.search(part) else whole
        if _asks(sentence):
            return sentence
    return None


def _asks(sentence: str) -> bool:
    folded = normalize(sentence)
    return len(folded) >= 6 and bool(_RULES_QUESTION.search(folded)
                                     or _SERVICE_QUESTION.search(folded))
