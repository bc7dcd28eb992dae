// The word lists, templates and planted facts of memory_bench (corpus.h). The small talk
// avoids the facts' content words, so a probe finds its fact only through the fact itself.
#include "corpus.h"

namespace tokki::bench::memory {
namespace {

Language Korean() {
  Language l;
  l.code = "ko";
  l.character_name = "하늘";
  l.character_description =
      "하늘은 다정하고 호기심 많은 친구다. 일상 이야기를 좋아하고 상대가 한 말을 잘 기억한다.";
  l.greeting = "안녕! 오늘 하루는 어땠어?";
  l.facts = {
      {"우리 강아지 이름은 보리야.", "보리는 요즘 잘 지내?", "내 반려견은 어떻게 지낼까?"},
      {"3월 3일에 새 직장에 출근해.", "새 직장 출근 준비는 잘 돼가?", "첫 근무일이 언제였지?"},
      {"내 여동생 서윤이는 부산에 살아.", "서윤이한테 연락해 볼까?",
       "내 자매는 어느 도시에 살고 있지?"},
      {"내 생일은 7월 14일이야.", "내 생일에 뭐 할까?", "내가 태어난 날 기억해?"},
      {"나는 땅콩 알레르기가 있어.", "파티 음식에 땅콩 들어가?", "내가 못 먹는 견과류가 뭐였지?"},
      {"내가 제일 좋아하는 색은 청록색이야.", "청록색 목도리 어울릴까?", "내 취향 빛깔이 뭐였지?"},
      {"나는 동네 오케스트라에서 첼로를 연주해.", "오늘 밤 첼로 연습할까?",
       "주말마다 다루는 악기가 뭐였지?"},
      {"우리 할머니 성함은 순자야.", "이번 주말에 순자 할머니께 전화할까?",
       "내 외할매 이름 기억나?"},
      {"8월에 제주도로 여행 가.", "제주도 갈 때 뭐 챙길까?", "올여름 휴가 어디로 가더라?"},
      {"열두 살 때 스키 타다가 왼팔이 부러졌어.", "스키 타다 다친 팔은 이제 괜찮겠지?",
       "어릴 적에 크게 다친 적 있었지?"},
      {"제일 친한 친구 민준이가 10월에 결혼해.", "민준이 결혼 선물 뭐가 좋을까?",
       "올가을에 누구 예식에 가더라?"},
      {"나는 파란색 기아 모닝을 타.", "모닝 정비 받을 때 됐나?", "내 차종이 뭐였지?"},
      {"내가 제일 좋아하는 음식은 김치찌개야.", "오늘 저녁 김치찌개 끓일까?",
       "내 최애 요리가 뭐였지?"},
      {"2019년에 전남대학교를 졸업했어.", "전남대학교 다닐 때 얘기 기억해?", "내 모교가 어디였지?"},
      {"우리 고양이 나비는 피아노 위에서 자.", "나비는 아직도 피아노 위에서 자?",
       "내 냥이 낮잠 장소가 어디였지?"},
      {"화요일마다 스페인어를 배우고 있어.", "스페인어 공부는 잘 돼가?",
       "매주 듣는 외국말 수업이 뭐였지?"},
      {"작년 봄에 마포에 있는 원룸으로 이사했어.", "마포 원룸은 살기 괜찮아?",
       "최근에 옮긴 동네가 어디였지?"},
      {"아빠 수술이 11월 20일이야.", "아빠 수술 날짜 다가오지?", "아버지 시술은 언제였지?"},
      {"나는 고수를 정말 싫어해.", "식당에서 고수 빼 달라고 할까?", "내가 못 참는 향채가 뭐였지?"},
      {"올해 목표는 마라톤 완주야.", "마라톤 훈련은 잘 되고 있어?",
       "내가 준비 중인 달리기 대회가 뭐였지?"},
  };
  l.user_templates = {
      "{when} {place}에 다녀왔는데 {impression}",
      "{snack} 먹어 본 적 있어? 나 {when} 먹었거든.",
      "오늘은 날씨가 {weather}. {plan}",
      "요즘 {feeling}. {reason}",
      "{when} {genre} 영화 봤는데 {impression}",
      "요즘 {music} 들으면서 {chore}.",
      "드디어 {achievement}!",
      "옆집 사람이 자꾸 {habit}. 좀 신경 쓰여.",
      "너라면 이런 날 뭐 할 거야? 날씨가 {weather}.",
      "{when} {place} 앞에서 {snack} 팔더라.",
  };
  l.reply_templates = {
      "그거 정말 재밌겠다! 제일 기억에 남는 건 뭐야?",
      "{snack} 맛있지. 먹고 나서는 뭐 했어?",
      "너무 무리하지 말고 푹 쉬어. 얘기하고 싶으면 언제든 말해.",
      "이런 날엔 {music} 듣는 게 최고지.",
      "대단하다! 그거 쉽지 않은데 정말 잘했어.",
      "{place} 얘기 더 해 줘. 듣기만 해도 즐거워.",
      "나라면 {plan}",
      "그랬구나. {when} 많이 바빴겠네.",
      "{genre} 영화 좋지. 다음엔 같이 보자.",
  };
  l.fact_replies = {"알겠어, 기억해 둘게.", "말해 줘서 고마워!", "오, 그렇구나. 잘 기억할게."};
  l.slots = {
      {"open", {"음,", "아하!", "헉,", "오호,", "그렇구나.", "우와,", "흠,", "아 진짜?"}},
      {"close",
       {"너는 어때?", "나도 궁금하다.", "다음에 또 얘기해 줘.", "기대된다!", "항상 응원해.",
        "오늘도 수고했어.", "재밌는 하루네.", "나도 해 보고 싶다."}},
      {"place",
       {"공원", "도서관", "시장", "빵집", "박물관", "바닷가", "헬스장", "서점", "영화관", "카페",
        "기차역", "꽃집", "수영장", "한강"}},
      {"when",
       {"어제", "오늘 아침", "어젯밤", "토요일에", "점심 먹고", "저녁 전에", "지난 주말에", "아까",
        "퇴근길에"}},
      {"impression",
       {"정말 좋았어.", "사람이 너무 많았어.", "생각보다 조용했어.", "꽤 재밌었어.",
        "조금 지루했어.", "분위기가 아늑했어."}},
      {"snack",
       {"망고 빙수", "떡볶이", "라면", "크루아상", "녹차 아이스크림", "치킨", "만두", "바나나 빵",
        "호떡", "초밥", "팬케이크", "타코"}},
      {"weather", {"맑아", "흐려", "비가 와", "쌀쌀해", "더워", "바람이 불어", "후텁지근해"}},
      {"plan",
       {"책이나 읽을까 봐.", "산책이나 할까 봐.", "쿠키를 구워 볼까 해.", "방 청소를 해야겠어.",
        "요가를 좀 해야겠어.", "영화를 볼까 해.", "새 요리법에 도전해 볼까?",
        "화분에 물을 줘야겠다."}},
      {"feeling", {"좀 피곤해", "기분이 들떠", "긴장돼", "심심해", "스트레스 받아", "마음이 편해"}},
      {"reason",
       {"버스가 늦게 왔거든.", "잠을 잘 못 잤어.", "이번 주가 거의 끝났잖아.", "오늘 월급날이야.",
        "우산을 잃어버렸어.", "휴대폰이 고장 났어.", "책을 한 권 다 읽었어."}},
      {"genre", {"공포", "코미디", "로맨스", "다큐멘터리", "애니메이션", "추리", "SF", "액션"}},
      {"music", {"재즈", "로파이", "케이팝", "영화 음악", "인디 포크", "클래식 기타"}},
      {"chore", {"설거지해", "빨래 개", "출퇴근해", "공부해", "요리해"}},
      {"achievement",
       {"새는 수도꼭지를 고쳤어", "퍼즐을 다 맞췄어", "냉장고 청소를 끝냈어", "뜨개질을 배웠어",
        "옷장 정리를 했어", "게임 최고 기록을 깼어"}},
      {"habit",
       {"밤에 트럼펫을 불어", "내 자리에 주차해", "택배를 우리 문 앞에 둬", "계단에서 노래해"}},
  };
  return l;
}

Language English() {
  Language l;
  l.code = "en";
  l.character_name = "Aria";
  l.character_description =
      "Aria is a warm, curious friend who loves everyday stories and remembers what people "
      "tell her.";
  l.greeting = "Hi! How was your day?";
  l.facts = {
      {"My dog is called Bori.", "What's Bori up to these days?",
       "How is my little pup doing, do you think?"},
      {"I start my new job on March 3rd.", "Do you remember when my new job starts?",
       "When is my first day at the office again?"},
      {"My sister Hana lives in Busan.", "Should I give Hana a ring this week?",
       "Which city does my sibling live in again?"},
      {"My birthday is on July 14th.", "What should we do on my birthday?",
       "Do you remember when I was born?"},
      {"I am allergic to peanuts.", "Will there be peanuts in the party snacks?",
       "Which nut makes me sick?"},
      {"My favourite colour is teal.", "Would a teal scarf suit me?",
       "Which shade do I like most?"},
      {"I play the cello in a community orchestra.", "Should I practise the cello tonight?",
       "What instrument do I perform with on weekends?"},
      {"My grandmother's name is Soon-ja.", "Should I visit Soon-ja this weekend?",
       "What is my granny called?"},
      {"We are going to Jeju island in August.", "What should I pack for Jeju?",
       "Where is our summer holiday headed?"},
      {"I broke my left arm skiing when I was twelve.", "Do you think skiing again is wise?",
       "What injury did I have as a kid?"},
      {"My best friend Minjun is getting married in October.", "What gift should I get Minjun?",
       "Whose wedding am I attending this autumn?"},
      {"I drive a blue Kia Morning.", "Is the Kia due for a service?", "What car do I own?"},
      {"My favourite food is kimchi stew.", "Should I make kimchi stew tonight?",
       "What dish do I love above all?"},
      {"I graduated from Chonnam University in 2019.", "Do you remember my university?",
       "Where did I finish my degree?"},
      {"My cat Nabi sleeps on the piano.", "Is Nabi still sleeping up there?",
       "Where does my kitty nap?"},
      {"I am learning Spanish on Tuesdays.", "How is my Spanish coming along?",
       "Which foreign tongue am I studying each week?"},
      {"I moved into a flat in Mapo last spring.", "How is life in Mapo?",
       "Which neighbourhood did I relocate to recently?"},
      {"My dad's surgery is on November 20th.", "Is my dad's surgery still planned?",
       "When is my father's operation?"},
      {"I can't stand coriander.", "Should I ask them to leave out the coriander?",
       "Which herb do I refuse to eat?"},
      {"My goal this year is to run a marathon.", "How is the marathon training going?",
       "What race am I preparing for?"},
  };
  l.user_templates = {
      "I went to the {place} {when} and it was {adj}.",
      "Have you ever tried {snack}? I had some {when}.",
      "The weather is {weather} today, so I might {activity}.",
      "I'm feeling {feeling} because {reason}.",
      "Do you think I should {activity} {when}?",
      "I watched a {genre} film {when} and it was {adj}.",
      "My neighbour keeps {habit}, it's {adj}.",
      "I've been listening to {music} while I {chore}.",
      "Guess what, I finally {achievement} {when}!",
      "What would you do on a {weather} afternoon like this?",
  };
  l.reply_templates = {
      "That sounds {adj}! What was the best part?",
      "Oh, {snack} is a good pick. Did you {activity} afterwards?",
      "I hope you feel less {feeling} soon. Want to talk about it?",
      "A {weather} day is perfect to {activity}, honestly.",
      "Ha, I'd probably {activity} and put on some {music}.",
      "Nice, that is not easy. I'm proud of you.",
      "Tell me more about the {place}, I like hearing about it.",
      "{genre} films are fun. We should watch one together.",
  };
  l.fact_replies = {"Got it, I'll remember that.", "Thanks for telling me!",
                    "Oh, I didn't know that. Thanks for sharing."};
  l.slots = {
      {"open", {"Hmm,", "Oh wow!", "Aha,", "Honestly,", "Well,", "Ooh,", "Right,", "Haha,"}},
      {"close",
       {"What about you?", "I'm curious now.", "Tell me again sometime.",
        "Can't wait to hear more!", "I'm always rooting for you.", "You did well today.",
        "What a day.", "I'd love to try that too."}},
      {"place",
       {"park", "library", "market", "bakery", "museum", "beach", "gym", "bookshop", "cinema",
        "river path", "night market", "cafe downtown", "train station", "flower shop"}},
      {"when",
       {"yesterday", "this morning", "last night", "on Saturday", "after lunch", "before dinner",
        "at noon", "last weekend", "earlier today", "on my way home"}},
      {"adj",
       {"lovely", "boring", "crowded", "quiet", "fun", "strange", "relaxing", "exhausting",
        "amazing", "noisy", "cozy", "chilly"}},
      {"snack",
       {"mango bingsu", "tteokbokki", "ramen", "croissants", "green tea ice cream", "fried chicken",
        "dumplings", "banana bread", "hotteok", "sushi", "pancakes", "tacos"}},
      {"weather",
       {"rainy", "sunny", "windy", "cloudy", "humid", "freezing", "foggy", "warm", "grey",
        "bright"}},
      {"activity",
       {"read a novel", "bake cookies", "take a long walk", "tidy my room", "watch the sunset",
        "do some yoga", "try a new recipe", "water the plants", "play video games",
        "write in my journal"}},
      {"feeling",
       {"tired", "sleepy", "excited", "nervous", "cheerful", "bored", "stressed", "calm", "grumpy",
        "hopeful"}},
      {"reason",
       {"the bus was late", "I slept badly", "the week is almost over", "it's payday",
        "I lost my umbrella", "the neighbours were loud", "I found a nice song", "my phone broke",
        "I finished a book"}},
      {"genre",
       {"horror", "comedy", "romance", "documentary", "animated", "mystery", "sci-fi", "action"}},
      {"habit",
       {"playing the trumpet at night", "parking in my spot", "leaving parcels at my door",
        "singing in the stairwell", "hanging laundry on the balcony"}},
      {"music",
       {"old jazz", "lo-fi beats", "K-pop", "rainy-day playlists", "film soundtracks", "indie folk",
        "classical guitar"}},
      {"chore", {"cook", "do the dishes", "fold laundry", "commute", "study", "iron shirts"}},
      {"achievement",
       {"fixed the leaky tap", "finished a puzzle", "cleaned the fridge", "beat my high score",
        "learned to knit", "organised my closet"}},
  };
  return l;
}

Language Chinese() {
  Language l;
  l.code = "zh";
  l.separator = "";
  l.character_name = "小雨";
  l.character_description = "小雨是一个温柔又好奇的朋友，喜欢听日常小事，也记得别人说过的话。";
  l.greeting = "嗨！今天过得怎么样？";
  l.facts = {
      {"我的狗叫小白。", "小白最近怎么样？", "家里那只宠物还好吗？"},
      {"我三月三日开始新工作。", "新工作准备好了吗？", "第一天上班是哪天来着？"},
      {"我妹妹丽丽住在上海。", "丽丽最近联系你了吗？", "我那个小妹现在在哪个城市？"},
      {"我的生日是七月十四日。", "我生日那天做什么好？", "我是哪天出生的来着？"},
      {"我对花生过敏。", "聚会的点心里有花生吗？", "哪种坚果我不能吃？"},
      {"我最喜欢的颜色是青绿色。", "青绿色的围巾适合我吗？", "我偏爱哪种色调？"},
      {"我在社区乐团拉大提琴。", "今晚要不要练大提琴？", "我周末演奏什么乐器？"},
      {"我奶奶叫秀英。", "这个周末给秀英打电话吧？", "外婆的名字你记得吗？"},
      {"我们八月去海南岛旅行。", "去海南岛要带什么？", "暑假要去哪里玩来着？"},
      {"我十二岁滑雪时摔断了左臂。", "滑雪摔的那次现在还疼吗？", "小时候受过什么重伤？"},
      {"我最好的朋友小明十月结婚。", "小明的结婚礼物买什么好？", "今年秋天谁办喜酒来着？"},
      {"我开一辆蓝色的比亚迪。", "比亚迪该保养了吗？", "我的车是什么牌子？"},
      {"我最喜欢吃红烧肉。", "今晚做红烧肉吧？", "哪道菜是我的心头好？"},
      {"我二〇一九年从复旦大学毕业。", "还记得复旦大学那几年吗？", "我的母校是哪所？"},
      {"我的猫咪咪睡在钢琴上。", "咪咪还在钢琴上睡觉吗？", "家里的小猫喜欢在哪儿打盹？"},
      {"我每周二学西班牙语。", "西班牙语学得怎么样了？", "我上的那门外语课进展如何？"},
      {"去年春天我搬到了杭州的一个小公寓。", "杭州的公寓住得习惯吗？",
       "最近换了新家，在哪个城市来着？"},
      {"我爸爸的手术在十一月二十日。", "爸爸的手术快到了吧？", "父亲开刀是哪天？"},
      {"我很讨厌香菜。", "点菜时要不要说别放香菜？", "我受不了的那种调味叶是什么？"},
      {"我今年的目标是跑完马拉松。", "马拉松训练进行得怎么样？", "我在为哪场长跑比赛做准备？"},
  };
  l.user_templates = {
      "{when}我去了{place}，{impression}",
      "你吃过{snack}吗？我{when}刚吃过。",
      "今天{weather}，{plan}",
      "最近{feeling}，{reason}",
      "{when}看了一部{genre}电影，{impression}",
      "最近一边听{music}一边{chore}。",
      "终于{achievement}！",
      "隔壁邻居老是{habit}，有点烦。",
      "这种天气你会做什么？今天{weather}。",
      "{when}在{place}门口看到有人卖{snack}。",
  };
  l.reply_templates = {
      "听起来真不错！印象最深的是什么？",
      "{snack}很好吃呀。吃完之后做了什么？",
      "别太累了，好好休息。想聊的话随时找我。",
      "这种天气最适合听{music}了。",
      "太厉害了！这可不容易。",
      "多跟我说说{place}吧，我很喜欢听。",
      "换作是我，{plan}",
      "原来如此，{when}一定很忙吧。",
      "{genre}电影挺有意思的，下次一起看吧。",
  };
  l.fact_replies = {"好的，我记住了。", "谢谢你告诉我！", "原来如此，我会记得的。"};
  l.slots = {
      {"open", {"嗯，", "哇！", "啊哈，", "说真的，", "好吧，", "哦，", "对呀，", "哈哈，"}},
      {"close",
       {"你觉得呢？", "我也好奇了。", "下次再跟我讲讲。", "好期待！", "我一直支持你。",
        "今天辛苦了。", "真是充实的一天。", "我也想试试。"}},
      {"place",
       {"公园", "图书馆", "菜市场", "面包店", "博物馆", "海边", "健身房", "书店", "电影院",
        "咖啡馆", "火车站", "花店", "游泳馆"}},
      {"when",
       {"昨天", "今天早上", "昨晚", "周六", "午饭后", "晚饭前", "上周末", "刚才", "下班路上"}},
      {"impression",
       {"挺好玩的。", "人特别多。", "比想象中安静。", "有点无聊。", "气氛很温馨。", "真不错。"}},
      {"snack",
       {"芒果冰", "炒年糕", "拉面", "可颂", "抹茶冰淇淋", "炸鸡", "饺子", "香蕉面包", "糖饼",
        "寿司", "松饼", "墨西哥卷饼"}},
      {"weather", {"天气很好", "下雨了", "有点冷", "特别热", "风很大", "阴沉沉的"}},
      {"plan",
       {"我想在家看看书。", "打算出去散散步。", "也许烤点饼干。", "该打扫房间了。", "想做做瑜伽。",
        "去看场电影吧。", "试试新菜谱。", "给花浇浇水。"}},
      {"feeling", {"有点累", "挺兴奋的", "有点紧张", "很无聊", "压力很大", "心情平静"}},
      {"reason",
       {"公交车来晚了。", "昨晚没睡好。", "这周快结束了。", "今天发工资。", "我把雨伞弄丢了。",
        "手机坏了。", "刚看完一本书。"}},
      {"genre", {"恐怖", "喜剧", "爱情", "纪录", "动画", "悬疑", "科幻", "动作"}},
      {"music", {"爵士乐", "轻音乐", "韩国流行歌", "电影原声", "民谣", "古典吉他"}},
      {"chore", {"洗碗", "叠衣服", "通勤", "学习", "做饭"}},
      {"achievement",
       {"修好了漏水的水龙头", "拼完了拼图", "把冰箱清理干净了", "学会了织毛衣", "整理好了衣柜"}},
      {"habit", {"半夜吹小号", "占我的车位", "把快递放在我门口", "在楼道里唱歌"}},
  };
  return l;
}

}  // namespace

const std::vector<Language>& Languages() {
  static const std::vector<Language> kAll = {Korean(), English(), Chinese()};
  return kAll;
}

}  // namespace tokki::bench::memory
