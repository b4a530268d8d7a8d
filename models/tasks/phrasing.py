"""Phrasings composed from parts, and which of them are held out from training.

A skill's wordings are *frames*: a stem ("what is {e}", "calculate {e}", "{e}") around a body
("{a} plus {b}", "the sum of {a} and {b}"), or a body that is a whole frame. Each frame has a kind
that decides how it can be decorated: "ask" (a question), "do" (an imperative) or "bare" (a bare
expression such as "{a}+{b}="). `render` decorates a frame (politeness, casing, punctuation) and
fills its placeholders; the filled values are never re-cased.

Held-out frames (`Frame.heldout`): a frame is held out when its stem is a held-out stem, or when
the frame itself is chosen by its hash. A held-out stem appears only in held-out frames, so the
held-out split holds wordings the model never saw, not only new combinations of seen ones.
Bodies carry the meaning (the operation, the sentence's roles, the negation) and are never held
out as parts: a model cannot learn what a word it never saw means, so every body is trained in
some frame and held out only in others. Frames marked `core` (given as whole frames) are always
trained. Both choices hash the skill and the text (SHA-256), so they do not depend on list order.
"""
import hashlib
import re
from dataclasses import dataclass

PART_HELDOUT = 5   # one stem in five is held out, with every frame using it
FRAME_HELDOUT = 4  # and one frame in four of the rest
PLACEHOLDER = re.compile(r"\{[a-zA-Z0-9_]+\}")


def chosen(label, text, share):
    return hashlib.sha256(f"{label}|{text}".encode()).digest()[0] % share == 0


@dataclass(frozen=True)
class Frame:
    text: str      # with placeholders, e.g. "what is {a} plus {b}?"
    kind: str      # "ask", "do" or "bare"
    heldout: bool


def compose(skill, stems, bodies, whole=(), core=()):
    """Frames of `skill`: every (stem, kind) in `stems` around every body (its "{e}" replaced),
    `whole` frames given as (text, kind) (held out as stems are), and `core` frames (text, kind)
    that are always trained. Duplicates (after composition) are dropped."""
    out, seen = [], set()

    def add(text, kind, stem, trained=False):
        if text in seen:
            return
        seen.add(text)
        held = not trained and (chosen(f"part|{skill}", stem, PART_HELDOUT) or
                                chosen(f"frame|{skill}", text, FRAME_HELDOUT))
        out.append(Frame(text, kind, held))

    for stem, kind in stems:
        for body in bodies:
            add(stem.replace("{e}", body), kind, stem)
    for text, kind in whole:
        add(text, kind, text)
    for text, kind in core:
        add(text, kind, text, trained=True)
    return out


# --- decoration -----------------------------------------------------------------------------------

PREFIXES = {
    "ask": ["", "", "", "", "hey, ", "quick question: ", "so ", "ok, ", "excuse me, "],
    "do": ["", "", "", "", "please ", "please, ", "can you ", "could you ", "pls ", "hey, ",
           "i need you to ", "kindly "],
    "bare": ["", "", "", "quick: "],
}
SUFFIXES = {"ask": ["", "", "", " please"], "do": ["", "", "", " please", " for me", ", thanks"],
            "bare": [""]}
ENDS = {"ask": ["?", "?", "?", "", " ?", "??"], "do": ["", "", ".", "!"], "bare": [""]}


def split_literals(text):
    """[(literal, is_placeholder)] pieces of a frame."""
    out, at = [], 0
    for m in PLACEHOLDER.finditer(text):
        if m.start() > at:
            out.append((text[at:m.start()], False))
        out.append((m.group(0), True))
        at = m.end()
    if at < len(text):
        out.append((text[at:], False))
    return out


def decorated(rng, frame):
    """The frame's text with a politeness prefix or suffix, its end punctuation varied and its
    literal words re-cased; placeholders untouched."""
    text, kind = frame.text, frame.kind
    end = ""
    if kind != "bare" and text and text[-1] in "?.!":
        text = text[:-1]
    prefix = rng.choice(PREFIXES[kind])
    if kind == "ask" or prefix in ("can you ", "could you "):
        end = rng.choice(ENDS["ask"])
    else:
        end = rng.choice(ENDS[kind])
    text = prefix + text + rng.choice(SUFFIXES[kind]) + end
    pieces = split_literals(text)
    r = rng.random()
    if r < 0.05:  # shouting: every literal word in capitals
        pieces = [(p if ph else p.upper(), ph) for p, ph in pieces]
    elif r < 0.5 and pieces and not pieces[0][1]:
        first = pieces[0][0]
        pieces[0] = (first[:1].upper() + first[1:], False)
    return "".join(p for p, _ in pieces)


def render(rng, frame, **values):
    """A request: the decorated frame with `values` filled in."""
    text = decorated(rng, frame)
    return PLACEHOLDER.sub(lambda m: str(values[m.group(0)[1:-1]]), text)
