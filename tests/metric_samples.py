"""Reading what a hub's /metrics answers, sample by sample."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families


@dataclass(frozen=True)
class Samples:
    """The samples of one scrape, by name and labels."""

    values: dict[tuple[str, frozenset[tuple[str, str]]], float]
    families: set[str]
    """Names of the families answered, those without samples yet too."""
    text: str

    @classmethod
    def parse(cls, text: str) -> Samples:
        families = list(text_string_to_metric_families(text))
        values = {
            (sample.name, frozenset(sample.labels.items())): sample.value
            for family in families
            for sample in family.samples
        }
        return cls(values, {family.name for family in families}, text)

    def value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when the scrape has none (a series not yet begun)."""
        return self.values.get((name, frozenset(labels.items())), 0.0)

    def names(self) -> set[str]:
        return {name for name, _ in self.values}

    def label_values(self, name: str, label: str) -> set[str]:
        """Every value `label` takes among the samples named `name`."""
        return {
            dict(labels)[label]
            for found, labels in self.values
            if found == name and label in dict(labels)
        }


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return Samples.parse(response.text)
