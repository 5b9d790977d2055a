"""The seeded conversations: scripted threads, small talk and group chatter."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.transport.simulated.cast import FAMILY_GROUP, FOOTBALL_GROUP, ME
from store.models import (
    MessageKind,
)

# ------------------------------------------------------------------------------ scripts


@dataclass(frozen=True)
class _Line:
    who: str  # person key or ME
    text: str
    kind: MessageKind = MessageKind.text
    reply: int | None = None  # index of the quoted line in the same thread
    react: tuple[str, str] | None = None  # (who, emoji)
    filename: str | None = None
    seconds: int | None = None


_t = _Line  # short name for the scripts below


@dataclass(frozen=True)
class _Thread:
    chat: str  # person key (direct chat) or group JID
    days_ago: int
    hour: float  # local hour of the day; with days_ago == 0: hours before now
    lines: tuple[_Line, ...]


_IMG, _DOC, _VOICE = MessageKind.image, MessageKind.document, MessageKind.voice


# fmt: off
THREADS: tuple[_Thread, ...] = (
    # ---- Maria: dinner plans
    _Thread("maria", 27, 18.5, (
        _t("maria", "Hey! Are we still on for dinner this Friday?"),
        _t(ME, "Yes! Where do you want to go?"),
        _t("maria", "What about that new Thai place on Elm Street?"),
        _t(ME, "Perfect. 7:30?"),
        _t("maria", "7:30 works. I'll book a table for 4, Ana and Leo are coming too"),
        _t(ME, "Great, see you there 🙌"),
    )),
    _Thread("maria", 24, 10.2, (
        _t("maria", "The whole crew at Baan Thai 🍜 dinner was amazing, thanks for organising!",
           kind=_IMG, filename="IMG-20240301-WA0007.jpg", react=(ME, "❤️")),
        _t(ME, "Such a fun night. We should make dinner a monthly thing", reply=0),
        _t("maria", "100%. Next one is at ours"),
    )),
    _Thread("maria", 6, 20.0, (
        _t("maria", "Dinner at ours next Saturday? Leo wants to try his new paella pan"),
        _t(ME, "Count me in! Should I bring dessert or wine?"),
        _t("maria", "Dessert please 🍰 Leo has the wine covered"),
        _t(ME, "Deal. Any allergies I should know about?"),
        _t("maria", "Ana is off nuts, otherwise anything goes", reply=3),
    )),
    _Thread("maria", 0, 2.0, (
        _t("maria", "Also, are you free for a run tomorrow morning?"),
        _t("maria", "Thinking 7am at the park, then coffee"),
    )),
    # ---- Tom: rent and repairs
    _Thread("tom", 29, 9.0, (
        _t("tom", "Hi, just a reminder that rent is due on the 1st. Transfer to the usual account "
                  "please."),
        _t(ME, "Hi Tom, will do. Also, the boiler has been making a banging noise since Sunday"),
        _t("tom", "Thanks for letting me know. I'll send a plumber round, does Thursday morning "
                  "work?"),
        _t(ME, "Thursday morning is fine, I work from home that day"),
    )),
    _Thread("tom", 25, 14.0, (
        _t("tom", "Plumber says the boiler pressure was low, all fixed now. Let me know if it "
                  "happens again."),
        _t(ME, "Working perfectly, thank you!"),
    )),
    _Thread("tom", 3, 11.0, (
        _t("tom", "Hi, heads up: the rent will go up by £40 from next month, in line with the "
                  "contract review."),
        _t("tom", "Here's the letter with the new rent figures", kind=_DOC,
           filename="Rent_Review_Letter.pdf"),
        _t(ME, "Hi Tom, thanks for the notice. Can we talk about it? The kitchen window still "
               "doesn't close properly.", reply=0),
        _t("tom", "Fair point. I'll get the window repaired this week and we can discuss the rent "
                  "after."),
        _t(ME, "Thanks, that sounds fair"),
    )),
    _Thread("tom", 1, 17.0, (
        _t("tom", "Window repair guy is coming Wednesday between 10 and 12, is that ok?"),
    )),
    # ---- Dentist
    _Thread("okafor", 20, 8.0, (
        _t("okafor", "Hello from Okafor Family Dentistry! This is a reminder of your dentist "
                     "appointment on Tuesday at 09:15 with Dr. Okafor. Reply YES to confirm or "
                     "call us to reschedule."),
        _t(ME, "YES"),
        _t("okafor", "Thank you, your appointment is confirmed. Please arrive 10 minutes early."),
    )),
    _Thread("okafor", 13, 12.5, (
        _t(ME, "Hi, I need to move my dentist appointment, something came up at work. Is "
               "anything free next week?"),
        _t("okafor", "We have Thursday at 16:40 or Friday at 08:30. Which would you prefer?"),
        _t(ME, "Friday 08:30 please"),
        _t("okafor", "Done! Your appointment is now Friday at 08:30. See you then 😊"),
    )),
    _Thread("okafor", 2, 9.5, (
        _t("okafor", "Reminder: your 6-month check-up and cleaning is due. Book online or reply "
                     "here with a preferred day."),
    )),
    # ---- Work
    _Thread("priya", 22, 9.0, (
        _t("priya", "Morning! Standup in 5, joining from the train so I'll be on mute"),
        _t(ME, "No worries, I'll share my screen for the sprint board"),
    )),
    _Thread("priya", 21, 9.4, (
        _t("priya", "Standup notes: API migration done, Kenji is blocked on the staging deploy, "
                    "demo moved to Thursday"),
        _t(ME, "Thanks! I'll pair with Kenji after lunch"),
    )),
    _Thread("priya", 15, 16.0, (
        _t("priya", "Whiteboard from the planning session, don't erase!!", kind=_IMG,
           filename="IMG-20240310-WA0002.jpg"),
        _t(ME, "Saved, thanks. I'll turn it into tickets", reply=0),
    )),
    _Thread("priya", 8, 18.0, (
        _t(ME, "Can we skip standup tomorrow? Half the team is at the offsite"),
        _t("priya", "Good call, async updates in the channel instead", react=(ME, "👍")),
    )),
    _Thread("priya", 1, 19.0, (
        _t("priya", "Quick one: can you review my PR before standup tomorrow? It's the rate "
                    "limiter change"),
        _t(ME, "On it, will have comments by tonight"),
        _t("priya", "You're a star ⭐"),
    )),
    _Thread("kenji", 21, 11.0, (
        _t("kenji", "Staging deploy is failing again, the migration times out after 30s"),
        _t(ME, "Try bumping the statement timeout, I'll look at the query after standup"),
        _t("kenji", "That did it, deploy is green ✅", react=(ME, "🎉")),
    )),
    _Thread("kenji", 10, 15.0, (
        _t("kenji", "", kind=_VOICE, seconds=23),
        _t(ME, "Just listened, yes let's go with option B for the cache", reply=0),
    )),
    _Thread("kenji", 4, 20.5, (
        _t("kenji", "Are you coming to football on Sunday? We need one more"),
        _t(ME, "Yes, I'll be there"),
    )),
    # ---- Family
    _Thread("mom", 18, 19.0, (
        _t("mom", "Hi love, did you get my email about Grandma's birthday?"),
        _t(ME, "Yes! I'll call her on the day. Are we doing lunch?"),
        _t("mom", "Sunday lunch at ours, 1pm. Can you bring the cake from the bakery?"),
        _t(ME, "Of course ❤️"),
    )),
    _Thread("mom", 5, 18.0, (
        _t("mom", "Your dad says hi. Don't forget your dentist appointment!"),
        _t(ME, "Haha I won't, it's already done 😄"),
    )),
    _Thread("dad", 14, 10.0, (
        _t("dad", "Can you help me set up the new printer this weekend?"),
        _t(ME, "Sure, Saturday afternoon?"),
        _t("dad", "Perfect, your mum will make lunch"),
    )),
    _Thread("ana", 16, 21.0, (
        _t("ana", "Sending you the photos for grandma's book now"),
        _t("ana", "Do you have Mum's recipe for the lemon cake?"),
        _t(ME, "Not written down, ask her 😄"),
    )),
    _Thread(FAMILY_GROUP, 19, 20.0, (
        _t("mom", "Grandma turns 90 on the 21st! Ideas for a present?"),
        _t("ana", "A photo book with pictures of all of us?"),
        _t("dad", "Great idea. I can scan the old albums"),
        _t(ME, "I'll design it, send me your favourite photos", reply=1),
    )),
    _Thread(FAMILY_GROUP, 17, 12.0, (
        _t("dad", "Found this one from 1978 😂", kind=_IMG, filename="IMG-19780612-SCAN.jpg",
           react=(ME, "😂")),
        _t("ana", "Dad's hair!!!", reply=0),
        _t("mom", "I still have that jacket"),
    )),
    _Thread(FAMILY_GROUP, 11, 21.0, (
        _t("mom", "Lunch on Sunday was lovely, Grandma cried at the photo book 🥹"),
        _t("ana", "Grandma with her photo book ❤️", kind=_IMG, filename="IMG-20240317-WA0011.jpg",
           react=("mom", "❤️")),
        _t("dad", "Best family day in ages"),
    )),
    _Thread(FAMILY_GROUP, 2, 19.5, (
        _t("ana", "Who's hosting Christmas this year? I hosted last time 😅"),
        _t("mom", "We'll do it at ours"),
        _t("dad", "I'll start planning the menu"),
    )),
    # ---- Football
    _Thread(FOOTBALL_GROUP, 26, 18.0, (
        _t("lukas", "Pitch booked for Sunday 10:00 at Riverside Park ⚽ Who's in?"),
        _t("jamal", "In"),
        _t("sofia", "In! Bringing a friend if that's ok"),
        _t("kenji", "👍 in"),
        _t(ME, "In"),
    )),
    _Thread(FOOTBALL_GROUP, 19, 13.0, (
        _t("lukas", "Great game today! Final score 5–3 to the darks 💪"),
        _t("jamal", "My knee disagrees"),
        _t("sofia", "Who's up for coffee after next week's game? I know a café near the park"),
    )),
    _Thread(FOOTBALL_GROUP, 12, 12.0, (
        _t("sofia", "The café is Café Lumière on Rose Street 😄 best croissants in town"),
        _t("maria", "Going there tomorrow! Thanks for the café tip", reply=0),
    )),
    _Thread(FOOTBALL_GROUP, 5, 17.0, (
        _t("lukas", "Match fees: £6 each for this month, send to me please"),
        _t("jamal", "Sent"),
        _t(ME, "Sent too", react=("lukas", "🙏")),
    )),
    _Thread(FOOTBALL_GROUP, 0, 3.0, (
        _t("lukas", "Rain forecast for Sunday ☔ we'll decide Saturday evening"),
        _t("jamal", "Let's play anyway, it's only water"),
        _t("sofia", "Agree with Jamal 😂"),
    )),
    # ---- Others
    _Thread("sofia", 12, 10.0, (
        _t("sofia", "Hey, it's Sofía from football! Lukas gave me your number. You asked about a "
                    "good café for working?"),
        _t(ME, "Yes! Somewhere quiet with wifi"),
        _t("sofia", "Try Café Lumière on Rose Street. Great flat white, quiet before 11, and the "
                    "wifi actually works"),
        _t(ME, "Amazing, thank you! Going Monday"),
    )),
    _Thread("sofia", 9, 11.0, (
        _t(ME, "Café Lumière was perfect, I'm a regular now ☕", react=("sofia", "❤️")),
        _t("sofia", "Told you! Try the almond croissant next time"),
    )),
    _Thread("jamal", 20, 22.0, (
        _t("jamal", "Hey it's Jamal from football, do you still have my shin pads?"),
        _t(ME, "Yes! I'll bring them Sunday"),
    )),
    _Thread("noah", 7, 13.0, (
        _t("noah", "Hi, is the bike you posted still available?"),
        _t(ME, "Yes it is! £150, collection only"),
        _t("noah", "Could you do £120?"),
        _t(ME, "£135 and it's yours"),
        _t("noah", "Deal, can I pick it up Saturday?"),
        _t(ME, "Saturday after 2pm works. The address is in the listing"),
    )),
)


# fmt: on

# Small talk that fills the month around the scripted threads: (opener, answer).
_SMALL_TALK: tuple[tuple[str, str], ...] = (
    ("Morning! How's your week going?", "Busy but good, you?"),
    ("Did you watch the match last night?", "Only the second half, what a finish"),
    ("Running 10 minutes late, sorry!", "No rush, I just got here too"),
    ("Happy Friday 🎉", "Finally! Any plans for the weekend?"),
    ("Have you started the new season of that show?", "Not yet, no spoilers please 🙈"),
    ("Thanks again for yesterday", "Anytime!"),
    ("Are you around for a quick call later?", "Sure, after 5 works"),
    ("Just landed ✈️", "Welcome back! How was the trip?"),
    ("Can you send me that article again?", "Here you go: https://example.com/long-read"),
    ("Good luck with the presentation today!", "Thank you, nervous but ready"),
    ("Is it raining where you are?", "Pouring. Staying in with a book"),
    ("I'm making soup, want some?", "Yes please, I'll come by at 6"),
    ("Do you know a good plumber?", "Tom's guy was great, I'll send you his number"),
    ("What was the name of that podcast you mentioned?", "The one about the history of maps!"),
    ("Look at this sunset 🌅", "Wow, where is that?"),
    ("Are we still on for tomorrow?", "Yes, same time as usual"),
    ("Did you get home ok?", "Yes, thanks for the lift!"),
    ("Happy birthday!! 🎂", "Thank you so much 🥰"),
    ("Where did you get that lamp?", "Flea market on Saturday, it was a bargain"),
    ("Can I borrow your drill this weekend?", "Of course, come grab it anytime"),
)


_GROUP_CHATTER: dict[str, tuple[str, ...]] = {
    FAMILY_GROUP: (
        "Anyone want the leftover lasagne?",
        "Who has the spare key to the garage?",
        "Happy anniversary Mum and Dad ❤️",
        "Reminder: Grandma's doctor appointment is on Thursday",
        "The cat knocked over the plant again 🙄",
        "Call me when you're free",
        "Look what came up in my memories today",
        "Safe travels!",
    ),
    FOOTBALL_GROUP: (
        "Who has the ball pump?",
        "Can't make it this week, sorry lads",
        "Same time next Sunday?",
        "Great game today, well played everyone",
        "Did anyone find a grey hoodie at the pitch?",
        "I'll bring the cones",
        "Goal of the season from Jamal 🔥",
        "Pitch is waterlogged, moving to the indoor hall",
    ),
}


_DIRECT_FILLER_KEYS = ("maria", "priya", "kenji", "mom", "dad", "ana", "sofia", "jamal")


SEED_MESSAGE_TARGET = 300
