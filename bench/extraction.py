"""Article extraction quality and speed: the pipeline beside plain trafilatura, same run.

Scores are token-level precision / recall / F1 against each page's `articleBody`
(multiset overlap of word tokens, averaged over pages), on the 181 pages of the standard
article-extraction benchmark (../shared/data/article-extraction-benchmark) and on pages
built here in several languages whose exact body is known.
"""

from __future__ import annotations

import gzip
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import trafilatura

from bench.common import SHARED_DATA, median, write_result
from worker.articles import make_document
from worker.articles.extract import decode_html, extract_article
from worker.demo.site import StoryArticle, article_page

_TOKEN = re.compile(r"\w+")


def tokens(text: str) -> Counter[str]:
    return Counter(_TOKEN.findall(text.lower()))


def score(truth: str, predicted: str) -> tuple[float, float]:
    expected, found = tokens(truth), tokens(predicted)
    overlap = sum((expected & found).values())
    precision = overlap / sum(found.values()) if found else (1.0 if not expected else 0.0)
    recall = overlap / sum(expected.values()) if expected else 1.0
    return precision, recall


def pipeline_text(html: bytes, url: str) -> str:
    document = make_document(extract_article(decode_html(html), url), source="bench")
    return document.text if document else ""


def plain_trafilatura(html: bytes, url: str) -> str:
    return trafilatura.extract(decode_html(html), url=url) or ""


def evaluate(
    pages: list[tuple[str, bytes, str]], extractor: Callable[[bytes, str], str]
) -> dict[str, Any]:
    precisions, recalls, times, exact = [], [], [], 0
    for url, html, truth in pages:
        started = time.perf_counter()
        predicted = extractor(html, url)
        times.append((time.perf_counter() - started) * 1000)
        precision, recall = score(truth, predicted)
        precisions.append(precision)
        recalls.append(recall)
        exact += predicted == truth
    p, r = sum(precisions) / len(pages), sum(recalls) / len(pages)
    return {
        "pages": len(pages),
        "precision": round(p, 4),
        "recall": round(r, 4),
        "f1": round(2 * p * r / (p + r), 4) if p + r else 0.0,
        "exact_cuts": exact,
        "median_ms_per_page": round(median(times), 2),
    }


def benchmark_pages() -> list[tuple[str, bytes, str]]:
    folder = SHARED_DATA / "article-extraction-benchmark"
    truth = json.loads((folder / "ground-truth.json").read_text())
    return [
        (
            item["url"],
            gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()),
            item["articleBody"],
        )
        for key, item in sorted(truth.items())
    ]


BUILT = {
    "id": [
        "Korea Utara telah mengirim sekitar 12.000 tentara ke Rusia, menurut Seoul.",
        "Badan intelijen menyebut sebagian pasukan sudah berada di wilayah Kursk.",
        "Pyongyang belum memberikan tanggapan resmi atas laporan tersebut.",
    ],
    "en": [
        "North Korea has sent about 12,000 troops to Russia, Seoul says.",
        "The intelligence service said some units were already in the Kursk region.",
        "Pyongyang has not responded to the report.",
    ],
    "de": [
        "Nordkorea hat nach Angaben aus Seoul rund 12.000 Soldaten nach Russland geschickt.",
        "Einige Einheiten seien bereits in der Region Kursk, hieß es vom Geheimdienst.",
        "Pjöngjang äußerte sich zunächst nicht zu dem Bericht.",
    ],
    "fr": [
        "La Corée du Nord a envoyé environ 12 000 soldats en Russie, selon Séoul.",
        "Certaines unités se trouveraient déjà dans la région de Koursk.",
        "Pyongyang n’a pas réagi à ces informations.",
    ],
    "es": [
        "Corea del Norte ha enviado unos 12.000 soldados a Rusia, según Seúl.",
        "Algunas unidades ya estarían en la región de Kursk, según la inteligencia.",
        "Pyongyang no ha respondido al informe.",
    ],
    "ru": [
        "Северная Корея направила в Россию около 12 000 военных, сообщает Сеул.",
        "По данным разведки, часть подразделений уже находится в Курской области.",
        "Пхеньян пока не прокомментировал эти сообщения.",
    ],
}
RELATED = {
    "id": "Baca juga: Kim Jong Un bertemu Putin",
    "en": "Read more: Kim meets Putin",
    "de": "Lesen Sie auch: Kim trifft Putin",
    "fr": "Lire aussi : Kim rencontre Poutine",
    "es": "Lea también: Kim se reúne con Putin",
    "ru": "Читайте также: Ким встретился с Путиным",
}


def built_pages() -> list[tuple[str, bytes, str]]:
    pages = []
    for language, paragraphs in BUILT.items():
        for variant in range(3):
            body = list(paragraphs)
            if variant >= 1:
                body.insert(2, RELATED[language])  # a related-link line inside the body
            article = StoryArticle(
                f"{language}-{variant}",
                "site",
                1,
                datetime(2024, 12, 10, tzinfo=UTC),
                f"Headline {language} {variant}",
                tuple(body),
            )
            html = article_page(article, "Example News", language)
            pages.append(
                (f"https://example.org{article.path()}", html.encode(), "\n".join(paragraphs))
            )
    return pages


def main() -> dict[str, Any]:
    figures: dict[str, Any] = {}
    sets = {"built_multilingual": built_pages()}
    if (SHARED_DATA / "article-extraction-benchmark").exists():
        sets["standard_181"] = benchmark_pages()
    else:
        print("../shared/data/article-extraction-benchmark is absent: standard set skipped")
    for name, pages in sets.items():
        trafilatura.extract(decode_html(pages[0][1]))  # warm-up outside the timing
        ours = evaluate(pages, pipeline_text)
        plain = evaluate(pages, plain_trafilatura)
        figures[name] = {"newswatch": ours, "plain_trafilatura": plain}
        print(
            f"{name}: newswatch F1 {ours['f1']} (P {ours['precision']}, R {ours['recall']}, "
            f"{ours['median_ms_per_page']} ms/page, {ours['exact_cuts']} exact) | "
            f"trafilatura F1 {plain['f1']} (P {plain['precision']}, R {plain['recall']}, "
            f"{plain['median_ms_per_page']} ms/page, {plain['exact_cuts']} exact)"
        )
    write_result("extraction", figures)
    return figures


if __name__ == "__main__":
    main()
