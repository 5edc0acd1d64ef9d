#!/usr/bin/python3
"""Reference CHAIR results for fovea's exact CHAIR matcher (methods/.../eval: WordTokenizer,
Singularizer, ChairVocabulary, Chair).

Run with Debian's interpreter and its python3-nltk (3.8), from the repository root:

    /usr/bin/python3 tools/reference/chair/make_chair_reference.py methods/src/test/resources/chair/exact

It reads synonyms.txt, instances.json, reference_captions.json and captions.jsonl from that folder and
writes reference.json beside them. Nothing of chair.py (LisaAnne/Hallucination utils/chair.py and its
standalone copy with recall) or of pattern.en is imported or copied; each step is written out here
from their published definitions:

  words        nltk.word_tokenize(caption.lower()). word_tokenize needs NLTK's trained English Punkt
               model, which is data and not installed here; this script splits sentences with NLTK's
               untrained PunktSentenceTokenizer (no abbreviation list) and tokenizes each with NLTK's
               own NLTKWordTokenizer, which is word_tokenize's second half. The two differ only on
               abbreviations, which the captions here do not use.
  singular     pattern.en.singularize (Pattern 2.6), not installed here (it is Python 2): written out
               below from its rules -- preposition compounds, words ending one of the uninflected or
               uncountable words kept, -ie plurals, irregular suffixes, then the ordered suffix rules
               down to "drop a final s" (so "bus" -> "bu", "glass" -> "glas").
  two words    chair.py's double-word table (compounds, baby/adult + animal, passenger + jet/train,
               bow tie -> tie, toilet seat -> toilet, wine glas -> wine glass, home plate, train track),
               merged left to right; then "seat" dropped when "toilet" is among the words.
  truth        node word (first entry of the synonyms line) of each instance category of the image,
               plus the node words that its reference captions mention (second run only).
  metrics      CHAIR_s = captions with a hallucinated mention / captions; CHAIR_i = hallucinated
               mentions / mentions; recall = sum over captions of |mentioned truth node words| / sum
               of |truth node words|.
"""

import json
import re
import sys
from pathlib import Path

from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktSentenceTokenizer

SENTENCES = PunktSentenceTokenizer()
WORDS = NLTKWordTokenizer()


def tokenize(text):
    return [w for s in SENTENCES.tokenize(text) for w in WORDS.tokenize(s)]


# ---- pattern.en's singular, from its rules -------------------------------------------------------

PREPOSITIONS = set("""about before during of till above behind except off to across below for on under
after beneath from onto until among beside in out unto around besides into over upon at between near
since with athwart betwixt beyond but by""".split())

KEEP = """bison debris headquarters pincers trout bream diabetes herpes pliers tuna breeches djinn
high-jinks proceedings whiting britches eland homework rabies wildebeest carp elk innings salmon chassis
flounder jackanapes scissors christmas gallows mackerel series clippers georgia measles shears cod
graffiti mews species contretemps mumps swine corps news swiss
advice equipment happiness luggage news software bread fruit information mathematics progress
understanding butter furniture ketchup mayonnaise research water cheese garbage knowledge meat rice
electricity gravel love mustard sand""".split()

IE = """alergie cutie hoagie newbie softie veggie auntie doggie hottie nightie sortie weenie beanie eyrie
indie oldie stoolie yuppie birdie freebie junkie ^pie sweetie zombie bogie goonie laddie pixie techie
bombie groupie laramie quickie ^tie collie hankie lingerie reverie toughie cookie hippie meanie rookie
valkyrie""".split()

IRREGULAR = dict(pair.split(":") for pair in """atlantes:atlas atlases:atlas axes:axe beeves:beef
brethren:brother children:child corpora:corpus corpuses:corpus ephemerides:ephemeris feet:foot
ganglia:ganglion geese:goose genera:genus genii:genie graffiti:graffito helves:helve kine:cow
leaves:leaf loaves:loaf men:man mongooses:mongoose monies:money moves:move mythoi:mythos numena:numen
occipita:occiput octopodes:octopus opera:opus opuses:opus our:my oxen:ox penes:penis penises:penis
people:person sexes:sex soliloquies:soliloquy teeth:tooth testes:testis trilbys:trilby turves:turf
zoa:zoon""".split())


def _groups(*names):
    return lambda m: "".join(m.group(n) or "" for n in names)


# (pattern, replacement as a function of the match), first found wins
SUFFIX_RULES = [
    (r"(.)ae$", lambda m: m.group(1) + "a"),
    (r"(.)itis$", lambda m: m.group(1) + "itis"),
    (r"(.)eaux$", lambda m: m.group(1) + "eau"),
    (r"(quiz)zes$", _groups(1)),
    (r"(matr)ices$", lambda m: m.group(1) + "ix"),
    (r"(ap|vert|ind)ices$", lambda m: m.group(1) + "ex"),
    (r"^(ox)en", _groups(1)),
    (r"(alias|status)es$", _groups(1)),
    (r"([octop|vir])i$", lambda m: m.group(1) + "us"),
    (r"(cris|ax|test)es$", lambda m: m.group(1) + "is"),
    (r"(shoe)s$", _groups(1)),
    (r"(o)es$", _groups(1)),
    (r"(bus)es$", _groups(1)),
    (r"([m|l])ice$", lambda m: m.group(1) + "ouse"),
    (r"(x|ch|ss|sh)es$", _groups(1)),
    (r"(m)ovies$", lambda m: m.group(1) + "ovie"),
    (r"(.)ombies$", lambda m: m.group(1) + "ombie"),
    (r"(s)eries$", lambda m: m.group(1) + "eries"),
    (r"([^aeiouy]|qu)ies$", lambda m: m.group(1) + "y"),
    (r"([aeo]l)ves$", lambda m: m.group(1) + "f"),
    (r"([^d]ea)ves$", lambda m: m.group(1) + "f"),
    (r"arves$", lambda m: "arf"),
    (r"erves$", lambda m: "erve"),
    (r"([nlw]i)ves$", lambda m: m.group(1) + "fe"),
    (r"([lr])ves$", lambda m: m.group(1) + "f"),
    (r"([aeo])ves$", lambda m: m.group(1) + "ve"),
    (r"(sive)s$", _groups(1)),
    (r"(tive)s$", _groups(1)),
    (r"(hive)s$", _groups(1)),
    (r"([^f])ves$", lambda m: m.group(1) + "fe"),
    (r"(^analy)ses$", lambda m: m.group(1) + "sis"),
    (r"((a)naly|(b)a|(d)iagno|(p)arenthe|(p)rogno|(s)ynop|(t)he)ses$", lambda m: _groups(1, 2)(m) + "sis"),
    (r"(.)opses$", lambda m: m.group(1) + "opsis"),
    (r"(.)yses$", lambda m: m.group(1) + "ysis"),
    (r"(h|d|r|o|n|b|cl|p)oses$", lambda m: m.group(1) + "ose"),
    (r"(fruct|gluc|galact|lact|ket|malt|rib|sacchar|cellul)ose$", lambda m: m.group(1) + "ose"),
    (r"(.)oses$", lambda m: m.group(1) + "osis"),
    (r"([ti])a$", lambda m: m.group(1) + "um"),
    (r"(n)ews$", lambda m: m.group(1) + "ews"),
    (r"s$", lambda m: ""),
]
SUFFIX_RULES = [(re.compile(p, re.I), f) for p, f in SUFFIX_RULES]


def singular(word):
    if "-" in word:
        parts = word.split("-")
        if len(parts) > 1 and parts[1] in PREPOSITIONS:
            return singular(parts[0]) + "-" + "-".join(parts[1:])
    if word.endswith("'"):
        return singular(word[:-1]) + "'s"
    w = word.lower()
    if any(k.endswith(w) for k in KEEP):
        return word
    if any(w.endswith(x + "s") for x in IE):
        return w
    for plural, one in IRREGULAR.items():
        if w.endswith(plural):
            return re.sub("(?i)" + plural + "$", one, word)
    for pattern, make in SUFFIX_RULES:
        m = pattern.search(word)
        if m:
            return word[:m.start()] + make(m) + word[m.end():]
    return word


# ---- chair.py's words ------------------------------------------------------------------------------

DOUBLE = {w: w for w in ["motor bike", "motor cycle", "air plane", "traffic light", "street light", "traffic signal", "stop light",
                         "fire hydrant", "stop sign", "parking meter", "suit case", "sports ball", "baseball bat", "baseball glove",
                         "tennis racket", "wine glass", "hot dog", "cell phone", "mobile phone", "teddy bear", "hair drier",
                         "potted plant", "bow tie", "laptop computer", "stove top oven", "hot dog", "teddy bear", "home plate",
                         "train track"]}
for animal in ["bird", "cat", "dog", "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "animal", "cub"]:
    DOUBLE["baby " + animal] = animal
    DOUBLE["adult " + animal] = animal
for vehicle in ["jet", "train"]:
    DOUBLE["passenger " + vehicle] = vehicle
DOUBLE["bow tie"] = "tie"
DOUBLE["toilet seat"] = "toilet"
DOUBLE["wine glas"] = "wine glass"


def caption_words(caption):
    words = [singular(w) for w in tokenize(caption.lower())]
    merged, i = [], 0
    while i < len(words):
        two = " ".join(words[i:i + 2])
        if two in DOUBLE:
            merged.append(DOUBLE[two])
            i += 2
        else:
            merged.append(words[i])
            i += 1
    if "toilet" in merged and "seat" in merged:
        merged = [w for w in merged if w != "seat"]
    return merged


def main(folder):
    folder = Path(folder)
    node = {}
    for line in (folder / "synonyms.txt").read_text().splitlines():
        entries = line.strip().split(", ")
        for e in entries:
            node[e] = entries[0]
    instances = json.loads((folder / "instances.json").read_text())
    names = {c["id"]: c["name"] for c in instances["categories"]}
    segments = {img["id"]: set() for img in instances["images"]}
    for a in instances["annotations"]:
        segments[a["image_id"]].add(node[names[a["category_id"]]])
    from_captions = {i: set() for i in segments}
    for a in json.loads((folder / "reference_captions.json").read_text())["annotations"]:
        if a["image_id"] in from_captions:
            from_captions[a["image_id"]].update(node[w] for w in caption_words(a["caption"]) if w in node)
    captions = [json.loads(l) for l in (folder / "captions.jsonl").read_text().splitlines() if l.strip()]

    def run(with_captions):
        out, totals = [], dict(captions=0, hallucinated_captions=0, mentions=0, hallucinated_mentions=0, truth_objects=0, covered_objects=0)
        for c in captions:
            truth = set(segments[c["image_id"]]) | (from_captions[c["image_id"]] if with_captions else set())
            words = caption_words(c["caption"])
            mentions = [[w, node[w]] for w in words if w in node]
            hallucinated = [m for m in mentions if m[1] not in truth]
            covered = sorted({m[1] for m in mentions if m[1] in truth})
            out.append(dict(image_id=c["image_id"], words=words, mentions=mentions, hallucinated=hallucinated, truth=sorted(truth), covered=covered))
            totals["captions"] += 1
            totals["hallucinated_captions"] += 1 if hallucinated else 0
            totals["mentions"] += len(mentions)
            totals["hallucinated_mentions"] += len(hallucinated)
            totals["truth_objects"] += len(truth)
            totals["covered_objects"] += len(covered)
        totals["chair_s"] = 100.0 * totals["hallucinated_captions"] / totals["captions"]
        totals["chair_i"] = 100.0 * totals["hallucinated_mentions"] / totals["mentions"]
        totals["recall"] = 100.0 * totals["covered_objects"] / totals["truth_objects"]
        return dict(captions=out, summary=totals)

    probe = ["dogs", "bus", "buses", "glass", "glasses", "knives", "calves", "shelves", "leaves", "oxen", "mice", "people", "women", "children",
             "geese", "feet", "teeth", "ties", "cookies", "skis", "ski", "scissors", "sheep", "ice", "is", "this", "boxes", "benches", "puppies",
             "pi", "tomatoes", "data", "analyses", "bases", "theses", "wolves", "giraffes", "hooves", "knives", "hour", "mothers-in-law",
             "dogs'", "series", "movies", "matrices", "indices", "crises", "alumnae", "statuses"]
    tokens = ["Two men's dogs... (and a cat)!", "A hot-dog, 1,000 cats; \"quoted\" cannot won't.", "The dog. The cat? Yes! end.",
              "it's 'twas a man's \"best\" friend -- or not."]
    result = dict(
        source="tools/reference/chair/make_chair_reference.py",
        singular={w: singular(w) for w in probe},
        tokens={t: tokenize(t.lower()) for t in tokens},
        instances_only=run(False),
        with_reference_captions=run(True),
    )
    (folder / "reference.json").write_text(json.dumps(result, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
