"""The wordings of every skill, as parts that phrasing.compose() combines into frames.

Placeholders: arith {a} {b}; date {x} (a date written in one of dates.FORMS); unit {v} {u} {w}
(value, from-unit, to-unit); extract {n} {a} {c} {an} (name, age, city, "a"/"an"); sentiment
{t} (a review, itself made from REVIEWS); reverse {w}; out-of-domain: see OOD.

For + and *, {a} comes before {b} in every wording: the answer restates the equation in the order
the operands were written. For -, {a} is the minuend wherever it stands ("subtract {b} from {a}").
"""
import phrasing

ARITH_STEMS = [
    ("what is {e}?", "ask"), ("what's {e}?", "ask"), ("how much is {e}?", "ask"),
    ("what does {e} make?", "ask"), ("what do you get from {e}?", "ask"), ("whats {e}?", "ask"),
    ("do you know what {e} is?", "ask"), ("what is the result of {e}?", "ask"),
    ("calculate {e}", "do"), ("compute {e}", "do"), ("work out {e}", "do"), ("evaluate {e}", "do"),
    ("solve {e}", "do"), ("find {e}", "do"), ("give me {e}", "do"), ("tell me {e}", "do"),
    ("figure out {e}", "do"), ("i need {e}", "do"),
    ("{e}", "bare"), ("{e} =", "bare"), ("{e} = ?", "bare"), ("{e}=", "bare"), ("{e} equals", "bare"),
    ("{e} is?", "bare"),
]
ARITH_BODIES = {
    "+": ["{a} plus {b}", "{a} + {b}", "{a}+{b}", "the sum of {a} and {b}", "{a} and {b} added together",
          "{a} added to {b}", "{a} increased by {b}", "the total of {a} and {b}", "{a} and {b} combined"],
    "-": ["{a} minus {b}", "{a} - {b}", "{a}-{b}", "{a} take away {b}", "the difference between {a} and {b}",
          "{b} less than {a}", "{a} less {b}", "{a} decreased by {b}", "{b} subtracted from {a}",
          "{a} reduced by {b}"],
    "*": ["{a} times {b}", "{a} * {b}", "{a}*{b}", "{a} x {b}", "{a} multiplied by {b}",
          "the product of {a} and {b}", "{a} × {b}", "{a} lots of {b}", "{a} groups of {b}"],
}
ARITH_WHOLE = {
    "+": [("add {a} and {b}", "do"), ("add {a} to {b}", "do"), ("sum {a} and {b}", "do"),
          ("sum up {a} and {b}", "do"), ("what do you get if you add {a} and {b}?", "ask"),
          ("i have {a} apples and get {b} more, how many do i have?", "ask"),
          ("{a} plus {b}, what's that?", "ask"), ("add together {a} and {b}", "do")],
    "-": [("subtract {b} from {a}", "do"), ("take {b} away from {a}", "do"), ("deduct {b} from {a}", "do"),
          ("what do you get if you subtract {b} from {a}?", "ask"),
          ("i had {a} dollars and spent {b}, how much is left?", "ask"),
          ("{a} minus {b}, what's that?", "ask"), ("remove {b} from {a}", "do")],
    "*": [("multiply {a} by {b}", "do"), ("multiply {a} and {b}", "do"), ("times {a} by {b}", "do"),
          ("what do you get if you multiply {a} by {b}?", "ask"),
          ("{a} boxes of {b} eggs, how many eggs in all?", "ask"),
          ("{a} times {b}, what's that?", "ask"), ("multiply together {a} and {b}", "do")],
}

DATE_FRAMES = [
    ("normalize the date {x}", "do"), ("normalise {x}", "do"), ("convert {x} to ISO", "do"),
    ("convert {x} to YYYY-MM-DD", "do"), ("format {x} as YYYY-MM-DD", "do"),
    ("rewrite {x} in ISO format", "do"), ("write {x} as an ISO date", "do"),
    ("turn {x} into an ISO date", "do"), ("change {x} to ISO 8601", "do"),
    ("give me {x} in ISO format", "do"), ("express {x} as yyyy-mm-dd", "do"),
    ("put {x} in ISO 8601 format", "do"), ("normalize the date: {x}", "do"),
    ("rewrite the date {x} in ISO form", "do"), ("give me {x} as year-month-day", "do"),
    ("format this date the ISO way: {x}", "do"),
    ("what is {x} in ISO format?", "ask"), ("what's {x} as YYYY-MM-DD?", "ask"),
    ("what is the ISO date for {x}?", "ask"), ("how do you write {x} in ISO 8601?", "ask"),
    ("which ISO date is {x}?", "ask"), ("what's {x} in yyyy-mm-dd?", "ask"),
    ("can you format {x} as an ISO date?", "ask"),
    ("date: {x}", "bare"), ("{x} in ISO format", "bare"), ("{x} -> ISO", "bare"),
    ("ISO date for {x}", "bare"), ("{x} as YYYY-MM-DD", "bare"), ("ISO 8601: {x}", "bare"),
    ("{x} => yyyy-mm-dd", "bare"), ("{x} as an ISO date", "bare"), ("{x} in ISO", "bare"),
]

UNIT_FRAMES = [
    ("convert {v} {u} to {w}", "do"), ("convert {v} {u} into {w}", "do"), ("change {v} {u} to {w}", "do"),
    ("express {v} {u} in {w}", "do"), ("turn {v} {u} into {w}", "do"), ("give me {v} {u} in {w}", "do"),
    ("convert {v}{u} to {w}", "do"), ("put {v} {u} in {w}", "do"),
    ("how many {w} is {v} {u}?", "ask"), ("how many {w} are in {v} {u}?", "ask"),
    ("how many {w} in {v} {u}?", "ask"), ("what is {v} {u} in {w}?", "ask"),
    ("{v} {u} is how many {w}?", "ask"), ("what's {v} {u} in {w}?", "ask"),
    ("how much is {v} {u} in {w}?", "ask"), ("what is {v} {u} expressed in {w}?", "ask"),
    ("{v} {u} in {w}", "bare"), ("{v} {u} to {w}", "bare"), ("{v} {u} = ? {w}", "bare"),
    ("{v}{u} in {w}", "bare"), ("{v} {u} -> {w}", "bare"), ("{v} {u} as {w}", "bare"),
    ("{v} {u} = how many {w}", "bare"), ("{v} {u} in {w}?", "bare"),
]

EXTRACT_STEMS = [
    ("extract name, age, city: {e}", "do"), ("extract the name, age and city: {e}", "do"),
    ("pull out the name, age and city: {e}", "do"), ("get the name, age and city from this: {e}", "do"),
    ("give me name, age and city as JSON: {e}", "do"), ("parse name/age/city from: {e}", "do"),
    ("find the person's name, age and city in: {e}", "do"), ("name, age and city please: {e}", "bare"),
    ("who, how old, where: {e}", "bare"), ("extract the person's details (name, age, city): {e}", "do"),
    ("turn this into JSON with name, age and city: {e}", "do"), ("read off the name, age and city: {e}", "do"),
    ("{e} -- extract name, age, city", "bare"), ("{e} (name, age, city?)", "bare"),
    ("from the text \"{e}\" extract the name, age and city", "do"),
    ("JSON with name, age, city for: {e}", "bare"), ("extract name/age/city => {e}", "bare"),
]
# Extraction sentences, composed: a structure orders the three roles, and each role has its own
# ways of being said. {N} is one of PERSON_FORMS, {A} one of AGE_FORMS, {C} one of CITY_FORMS.
EXTRACT_STRUCTURES = [
    "{N} {A} and {C}.", "{N}, {A}, {C}.", "{N} {C} and {A}.", "{C}, {N} {A}.", "{A}-year-old {n} {C}.",
    "{N} ({a}) {C}.", "{N}: {A}, {C}.", "{N} {A}; {C}.", "{N}, who {C}, {A}.", "{C} is home to {n}, {a}.",
    "name: {n}; age: {a}; city: {c}", "{n} | {a} | {c}", "{n}, {a}, {c}", "{n} ({c}, {a})",
]
PERSON_FORMS = ["{n}", "My friend {n}", "Our new colleague {n}", "My neighbour {n}", "Our client {n}",
                "The customer {n}"]
AGE_FORMS = ["is {a}", "is {a} years old", "aged {a}", "turned {a} this year", "who is {a}",
             "at the age of {a}", "just turned {a}", "is {an} {a}-year-old"]
CITY_FORMS = ["lives in {c}", "is from {c}", "is based in {c}", "moved to {c}", "works in {c}",
              "calls {c} home", "grew up in {c}", "lives near {c}", "is a resident of {c}",
              "comes from {c}", "has settled in {c}", "in {c}"]
# Structures whose sentence starts with the city read it as a location phrase.
CITY_FIRST = ["Living in {c}", "In {c}", "From {c}", "Based in {c}"]


def extract_sentences():
    """Every sentence frame: each structure with every way of saying each role it uses."""
    out = []
    for structure in EXTRACT_STRUCTURES:
        persons = PERSON_FORMS if "{N}" in structure else ["{n}"]
        ages = AGE_FORMS if "{A}" in structure else ["{a}"]
        cities = (CITY_FIRST if structure.startswith("{C}") else CITY_FORMS) if "{C}" in structure else ["{c}"]
        for p in persons:
            for a in ages:
                for c in cities:
                    text = structure.replace("{N}", p).replace("{A}", a).replace("{C}", c)
                    out.append(text[0].upper() + text[1:] if text[0] != "{" else text)
    return out


SENTIMENT_FRAMES = [
    ("review: {t}", "bare"), ("{t}", "bare"), ("sentiment: {t}", "bare"),
    ("is this review positive or negative? {t}", "bare"), ("what's the sentiment of: {t}", "bare"),
    ("sentiment of this review: {t}", "bare"), ("{t} -- positive or negative?", "bare"),
    ("classify the sentiment: {t}", "bare"), ("tell me if this is positive or negative: {t}", "bare"),
    ("customer review: {t}", "bare"), ("positive or negative? {t}", "bare"),
    ("did the customer like it? {t}", "bare"), ("good or bad review: {t}", "bare"),
    ("was this person happy? {t}", "bare"), ("rate the tone: {t}", "bare"),
    ("how did they feel? {t}", "bare"), ("label this review: {t}", "bare"), ("feedback: {t}", "bare"),
]
# Review sentences: {s} subject, {i} intensifier (may be empty), {w} adjective.
REVIEWS = ["{s} was {i}{w}", "{s} is {i}{w}", "i found {s} {i}{w}", "honestly, {s} was {i}{w}",
           "{s} felt {i}{w} to me", "i think {s} was {i}{w}", "{s} turned out {i}{w}",
           "we thought {s} was {i}{w}", "{s} seemed {i}{w}", "in my opinion {s} is {i}{w}",
           "{s} has been {i}{w}", "overall, {s} was {i}{w}", "{s}: {i}{w}", "{s} looked {i}{w}",
           "my verdict on {s}: {i}{w}", "{s} really was {i}{w}"]
REVIEWS_NEGATED = ["{s} was not {w}", "{s} is not {w} at all", "{s} wasn't {w}", "{s} was never {w}",
                   "i would not call {s} {w}", "{s} isn't {w}", "{s} was hardly {w}",
                   "nobody would say {s} was {w}", "{s} was far from {w}"]

# Reversal: a stem (what to do, "{e}" the word) around a way of naming the word. A body that
# names the word ("the word {w}", quoted) is never held out; every stem meets every body.
REVERSE_STEMS = [
    ("reverse {e}", "do"), ("spell {e} backwards", "do"), ("write {e} backwards", "do"),
    ("write {e} in reverse", "do"), ("give me {e} backwards", "do"), ("read {e} from right to left", "do"),
    ("flip {e}", "do"), ("mirror {e}", "do"), ("turn {e} around", "do"), ("spell {e} in reverse", "do"),
    ("write out {e} back to front", "do"), ("print {e} reversed", "do"), ("invert {e}", "do"),
    ("reverse the letters of {e}", "do"), ("flip the letters of {e}", "do"),
    ("put the letters of {e} in reverse order", "do"),
    ("what is {e} backwards?", "ask"), ("what's {e} spelled backwards?", "ask"),
    ("how do you spell {e} backwards?", "ask"), ("what do you get if you reverse {e}?", "ask"),
    ("can you reverse {e}?", "ask"), ("what does {e} look like reversed?", "ask"),
    ("how is {e} written backwards?", "ask"),
    ("reverse: {e}", "bare"), ("{e} backwards", "bare"), ("{e} reversed", "bare"),
    ("{e} -> reversed", "bare"), ("backwards: {e}", "bare"), ("{e} spelled backwards", "bare"),
    ("reversed({e})", "bare"),
]
REVERSE_BODIES = ["{w}", "the word {w}", "\"{w}\"", "'{w}'", "the string {w}", "the name {w}"]

# Out-of-domain requests: nothing the six skills answer. Some sit next to a skill's domain
# (division, percentages, temperatures, weekdays, currency) without being in it.
OOD_FRAMES = [
    ("what is the capital of {country}?", "ask"), ("write a poem about {thing}", "do"),
    ("tell me a joke about {thing}", "do"), ("what is the weather in {city} tomorrow?", "ask"),
    ("translate {word} into French", "do"), ("who is the president of {country}?", "ask"),
    ("recommend a book about {thing}", "do"), ("how do i cook rice?", "ask"),
    ("play some music by {name}", "do"), ("set an alarm for {h} am", "do"),
    ("what time is it in {city}?", "ask"), ("summarize the news about {country}", "do"),
    ("call {name}", "do"), ("is it going to rain in {city}?", "ask"),
    ("write an email to {name} about {thing}", "do"), ("how tall is mount everest?", "ask"),
    ("explain how {thing} work", "do"), ("what does {word} mean?", "ask"),
    ("send a message to {name}", "do"), ("book a table for {h} in {city}", "do"),
    ("how far away is the moon?", "ask"), ("what's a good name for a {animal}?", "ask"),
    ("remind me to call {name} at {h} pm", "do"), ("what is the population of {city}?", "ask"),
    ("how do i get to {city} from {city2}?", "ask"), ("open the {app} app", "do"),
    ("turn off the lights in the {room}", "do"), ("what's the best pizza place in {city}?", "ask"),
    ("give me a recipe for {food}", "do"), ("how many people live in {country}?", "ask"),
    ("what language do they speak in {country}?", "ask"), ("draw a picture of {thing}", "do"),
    ("when does the next train to {city} leave?", "ask"), ("find flights from {city} to {city2}", "do"),
    ("what is {word} in Spanish?", "ask"), ("set a timer for {minutes} minutes", "do"),
    ("tell me something interesting about {thing}", "do"), ("is {city} worth visiting?", "ask"),
    ("what should i cook for dinner tonight?", "ask"), ("text {name} that i'm running late", "do"),
    ("who painted the mona lisa?", "ask"), ("explain photosynthesis simply", "do"),
    ("what is a good movie to watch tonight?", "ask"), ("how do i fix a flat tire?", "ask"),
    ("write a short story about {name}", "do"), ("what rhymes with {word}?", "ask"),
    ("sing me a song", "do"), ("what's trending in {country}?", "ask"),
    # Near a skill's domain, handled by none of them.
    ("what is the square root of {n}?", "ask"), ("divide {a} by {b}", "do"),
    ("what is {a} percent of {b}?", "ask"), ("is {a} a prime number?", "ask"),
    ("what day of the week was {month} {h}, {year}?", "ask"), ("spell {name} in capital letters", "do"),
    ("convert {a} dollars to euros", "do"), ("what is {a} degrees celsius in fahrenheit?", "ask"),
    ("how old is someone born in {year}?", "ask"), ("count the letters in {word}", "do"),
    ("what's today's date?", "ask"), ("sort these numbers: {a}, {b}, {n}", "do"),
]


def arith_frames(op):
    # The whole frames carry their operation in words found nowhere else ("deduct", "boxes of"):
    # always trained, so a held-out frame never hinges on a word the model never saw.
    return phrasing.compose(f"arith{op}", ARITH_STEMS, ARITH_BODIES[op], core=ARITH_WHOLE[op])


def whole_frames(skill, frames):
    return phrasing.compose(skill, [], [], frames)


def stem_frames(skill, stems, bodies):
    return phrasing.compose(skill, stems, bodies)
