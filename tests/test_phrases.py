"""monitor/phrases.py finds exactly what a word-aligned substring search finds, on random phrases and texts over a
small vocabulary (where phrases overlap, repeat and share prefixes and suffixes the most)."""
from __future__ import annotations

import random
from collections import Counter

from monitor.phrases import Phrases


def occurrences(phrase: str, text: str) -> int:
    words, wanted = text.split(), phrase.split()
    return sum(words[i:i + len(wanted)] == wanted for i in range(len(words) - len(wanted) + 1)) if wanted else 0


def test_phrases_are_found_as_a_substring_search_finds_them():
    rnd = random.Random(3)
    for _ in range(5000):
        vocabulary = ["a", "b", "c", "dd"][:rnd.randint(1, 4)]
        phrases = [" ".join(rnd.choices(vocabulary, k=rnd.randint(0, 5))) for _ in range(rnd.randint(0, 8))]
        texts = [" ".join(rnd.choices(vocabulary, k=rnd.randint(1, 6))) for _ in range(rnd.randint(0, 5))]
        search = Phrases(phrases)
        running = " " + " ".join(texts) + " "
        assert search.found_in(texts) == {p for p in phrases if p and f" {p} " in running}
        for text in texts:
            assert Counter(search.in_text(text)) == +Counter({p: occurrences(p, text) for p in set(phrases)})


def test_a_phrase_spanning_two_texts_is_found_in_their_running_text():
    search = Phrases(["senate passed", "yeas 37 nays 1", "kratom"])
    assert search.found_in(["02 26 2026 senate", "passed yeas 37", "nays 1"]) == {"senate passed", "yeas 37 nays 1"}
    assert list(search.in_text("senate passed")) == ["senate passed"]


def test_the_diff_is_the_same_whichever_way_it_searches(monkeypatch):
    """diff.py searches a few blocks with str's substring search and many with the automaton: same Diff either way."""
    from monitor import diff as diff_module
    from monitor.models import Block

    rnd = random.Random(8)
    vocabulary = ["kratom", "passed", "senate", "a", "b", "yeas", "37"]

    def blocks() -> list[Block]:
        return [Block(key=(words := " ".join(rnd.choices(vocabulary, k=rnd.randint(1, 4)))), text=words,
                      tag=rnd.choice(["p", "tr"]), context=(rnd.choice(["History", "Votes"]),))
                for _ in range(rnd.randint(0, 12))]

    for _ in range(3000):
        old, new = blocks(), blocks()
        if rnd.random() < 0.5:
            new = old[:rnd.randint(0, len(old))] + new[:3]
        monkeypatch.setattr(diff_module, "FEW_PHRASES", 10**6)
        by_substring = diff_module.diff_blocks(old, new)
        monkeypatch.setattr(diff_module, "FEW_PHRASES", 0)
        assert diff_module.diff_blocks(old, new) == by_substring
