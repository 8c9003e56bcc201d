"""One small dossier per language, written for the tests: a footnote, two placed quotes (one with a
quotation inside it), two events dated by month, two speakers. The sentences are our own."""

from __future__ import annotations

from pathlib import Path

# tag: (title, chapter title, paragraph, footnote, quote with "inner" quotation, second quote,
#       first event, second event, speaker A, speaker B)
SAMPLES: dict[str, tuple[str, ...]] = {
    "de": (
        "Die Brücke am Fluss",
        "Der Beschluss",
        "Der Rat stimmte nach langer Debatte für den Neubau der Brücke.",
        "Protokoll der Sitzung vom Februar.",
        'Wir haben "niemals aufgeben" gesagt und dabei bleibt es.',
        "Die Brücke wird im Frühjahr fertig.",
        "Der Rat stimmt ab",
        "Die Bauarbeiten beginnen",
        "Anna Becker",
        "Jürgen Öztürk",
    ),
    "en": (
        "The Bridge by the River",
        "The Decision",
        "After a long debate the council voted to rebuild the bridge.",
        "Minutes of the February meeting.",
        'We said "never give up" and we stand by it.',
        "The bridge will be finished in spring.",
        "The council votes",
        "Construction begins",
        "Anna Baker",
        "George Owens",
    ),
    "fr": (
        "Le pont sur la rivière",
        "La décision",
        "Après un long débat, le conseil a voté la reconstruction du pont.",
        "Procès-verbal de la séance de février.",
        'Nous avons dit "ne jamais renoncer" et nous nous y tenons.',
        "Le pont sera achevé au printemps.",
        "Le conseil vote",
        "Début des travaux",
        "Anne Bernard",
        "Étienne Roux",
    ),
    "pl": (
        "Most na rzece",
        "Decyzja",
        "Po długiej debacie rada zagłosowała za odbudową mostu.",
        "Protokół z posiedzenia w lutym.",
        'Powiedzieliśmy "nigdy się nie poddawać" i tak zostanie.',
        "Most będzie gotowy wiosną.",
        "Rada głosuje",
        "Rozpoczęcie budowy",
        "Anna Wiśniewska",
        "Łukasz Żak",
    ),
    "cs": (
        "Most přes řeku",
        "Rozhodnutí",
        "Po dlouhé debatě zastupitelstvo odhlasovalo obnovu mostu.",
        "Zápis ze zasedání v únoru.",
        'Řekli jsme "nikdy se nevzdat" a na tom trváme.',
        "Most bude hotový na jaře.",
        "Zastupitelstvo hlasuje",
        "Začátek stavby",
        "Chrudoš Hájek",
        "Hana Černá",
    ),
    "ru": (
        "Мост через реку",
        "Решение",
        "После долгих споров совет проголосовал за восстановление моста.",
        "Протокол заседания в феврале.",
        'Мы сказали "никогда не сдаваться" и не отступим.',
        "Мост будет готов весной.",
        "Совет голосует",
        "Начало строительства",
        "Анна Белова",
        "Юрий Орлов",
    ),
    "el": (
        "Η γέφυρα στο ποτάμι",
        "Η απόφαση",
        "Μετά από μακρά συζήτηση το συμβούλιο ψήφισε την ανοικοδόμηση της γέφυρας.",
        "Πρακτικά της συνεδρίασης του Φεβρουαρίου.",
        'Είπαμε "ποτέ δεν τα παρατάμε" και το εννοούμε.',
        "Η γέφυρα θα είναι έτοιμη την άνοιξη.",
        "Το συμβούλιο ψηφίζει",
        "Αρχίζουν τα έργα",
        "Άννα Βλάχου",
        "Ξενοφών Ψαράς",
    ),
    "tr": (
        "Nehir Üzerindeki Köprü",
        "Karar",
        "Uzun bir tartışmanın ardından meclis köprünün yeniden yapılmasına karar verdi.",
        "Şubat toplantısının tutanağı.",
        'Biz "asla vazgeçmeyiz" dedik ve sözümüzün arkasındayız.',
        "Köprü ilkbaharda bitecek.",
        "Meclis oylama yapıyor",
        "İnşaat başlıyor",
        "Işıl Yıldız",
        "İsmail Ilgaz",
    ),
    "ar": (
        "الجسر على النهر",
        "القرار",
        "بعد نقاش طويل صوّت المجلس لصالح إعادة بناء الجسر.",
        "محضر جلسة شهر فبراير.",
        'قلنا "لن نستسلم أبدًا" وما زلنا عند كلمتنا.',
        "سيكتمل الجسر في الربيع.",
        "المجلس يصوّت",
        "بدء أعمال البناء",
        "سارة حداد",
        "كريم منصور",
    ),
    "he": (
        "הגשר על הנהר",
        "ההחלטה",
        "לאחר דיון ארוך הצביעה המועצה בעד בנייתו מחדש של הגשר.",
        "פרוטוקול הישיבה מפברואר.",
        'אמרנו "לעולם לא נוותר" ואנחנו עומדים בכך.',
        "הגשר יושלם באביב.",
        "המועצה מצביעה",
        "תחילת העבודות",
        "נועה לוי",
        "דוד כהן",
    ),
    "fa": (
        "پل روی رودخانه",
        "تصمیم",
        "پس از بحثی طولانی، شورا به بازسازی پل رأی داد.",
        "صورت‌جلسهٔ نشست بهمن‌ماه.",
        'گفتیم "هرگز تسلیم نمی‌شویم" و بر سر حرفمان هستیم.',
        "پل در بهار آماده می‌شود.",
        "شورا رأی می‌دهد",
        "آغاز ساخت‌وساز",
        "مریم احمدی",
        "رضا کریمی",
    ),
    "hi": (
        "नदी पर पुल",
        "निर्णय",
        "लंबी बहस के बाद परिषद ने पुल के पुनर्निर्माण के पक्ष में मतदान किया।",
        "फ़रवरी की बैठक का कार्यवृत्त।",
        'हमने कहा था "कभी हार नहीं मानेंगे" और हम इस पर क़ायम हैं।',
        "पुल वसंत में तैयार हो जाएगा।",
        "परिषद मतदान करती है",
        "निर्माण शुरू होता है",
        "सीमा वर्मा",
        "अमित गुप्ता",
    ),
    "th": (
        "สะพานข้ามแม่น้ำ",
        "การตัดสินใจ",
        "หลังจากการอภิปรายอันยาวนาน สภาลงมติให้สร้างสะพานขึ้นใหม่",
        "บันทึกการประชุมเดือนกุมภาพันธ์",
        'เราพูดว่า "จะไม่ยอมแพ้" และเรายังยืนยันคำนั้น',
        "สะพานจะแล้วเสร็จในฤดูใบไม้ผลิ",
        "สภาลงมติ",
        "เริ่มการก่อสร้าง",
        "สมศรี ทองดี",
        "ประเสริฐ แก้วใส",
    ),
    "ja": (
        "川に架かる橋",
        "決定",
        "長い議論の末、議会は橋の架け替えに賛成票を投じた。",
        "二月の会議の議事録。",
        '私たちは"決してあきらめない"と言い、その言葉を守る。',
        "橋は春に完成する。",
        "議会が採決する",
        "工事が始まる",
        "佐藤花子",
        "鈴木一郎",
    ),
    "zh-Hans": (
        "河上的桥",
        "决定",
        "经过长时间的辩论，议会投票决定重建这座桥。",
        "二月会议的记录。",
        '我们说过"永不放弃"，我们说到做到。',
        "这座桥将于春天完工。",
        "议会投票",
        "工程开工",
        "王芳",
        "李强",
    ),
    "ko": (
        "강 위의 다리",
        "결정",
        "오랜 토론 끝에 의회는 다리를 다시 짓기로 의결했다.",
        "2월 회의 회의록.",
        '우리는 "결코 포기하지 않는다"고 말했고 그 말을 지킨다.',
        "다리는 봄에 완공된다.",
        "의회가 표결한다",
        "공사가 시작된다",
        "김민지",
        "박준호",
    ),
}
MATRIX = tuple(SAMPLES)


def write_language_dossier(root: Path, tag: str, *, layout: str = "") -> Path:
    """Write the sample dossier of a language under ``root``; returns the folder."""
    title, chapter, paragraph, note, quote_a, quote_b, event_a, event_b, name_a, name_b = SAMPLES[tag]
    root.mkdir(parents=True, exist_ok=True)
    (root / "dossier.yaml").write_text(
        f'title: "{title}"\nlanguage: {tag}\nauthors:\n  - "{name_a}"\ndate: "2019-03-15"\n'
        + (f"layout: {layout}\n" if layout else ""),
        encoding="utf-8",
    )

    def q(text: str) -> str:
        return "'" + text.replace("'", "''") + "'"

    (root / "01-chapter.yaml").write_text(
        f"title: {q(chapter)}\n"
        f"summary: {q(quote_b)}\n"
        "body: |\n"
        f"  {paragraph}[^1]\n\n"
        "  [[quote:a]]\n\n"
        f"  {paragraph}\n\n"
        "  [[quote:b]]\n\n"
        f"  [^1]: {note}\n"
        "events:\n"
        f'  - date: "2018-02"\n    title: {q(event_a)}\n    text: {q(paragraph)}\n'
        f'  - date: "2019-03"\n    title: {q(event_b)}\n    text: {q(note)}\n'
        "quotes:\n"
        f'  - id: a\n    speaker: {q(name_a)}\n    text: {q(quote_a)}\n    date: "2018-02"\n'
        f"  - id: b\n    speaker:\n      - {q(name_a)}\n      - {q(name_b)}\n    text: {q(quote_b)}\n"
        '    date: "2019-03"\n',
        encoding="utf-8",
    )
    return root
