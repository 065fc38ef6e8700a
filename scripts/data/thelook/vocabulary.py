"""Words the generated rows are made of: names, street words and places.

thelook builds people with Faker-style English names and addresses
(``jenniferbutler@example.net``, ``2844 Jenkins Heights Suite 915``) placed in real cities of
its countries. These short lists are written for this generator, not copied from the exports.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import NamedTuple

FIRST_NAMES = {
    "F": (
        "Jennifer",
        "Mary",
        "Patricia",
        "Linda",
        "Elizabeth",
        "Barbara",
        "Susan",
        "Jessica",
        "Sarah",
        "Karen",
        "Lisa",
        "Nancy",
        "Betty",
        "Sandra",
        "Margaret",
        "Ashley",
        "Kimberly",
        "Emily",
        "Donna",
        "Michelle",
        "Carol",
        "Amanda",
        "Melissa",
        "Deborah",
        "Stephanie",
        "Rebecca",
        "Sharon",
        "Laura",
        "Cynthia",
        "Amy",
        "Angela",
        "Anna",
        "Brenda",
        "Emma",
        "Olivia",
        "Christina",
        "Abigail",
        "April",
        "Megan",
        "Rachel",
        "Julie",
        "Heather",
        "Samantha",
        "Katherine",
        "Nicole",
        "Victoria",
        "Diana",
        "Natalie",
        "Sophia",
        "Grace",
    ),
    "M": (
        "James",
        "Robert",
        "John",
        "Michael",
        "David",
        "William",
        "Richard",
        "Joseph",
        "Thomas",
        "Charles",
        "Christopher",
        "Daniel",
        "Matthew",
        "Anthony",
        "Mark",
        "Donald",
        "Steven",
        "Paul",
        "Andrew",
        "Joshua",
        "Kenneth",
        "Kevin",
        "Brian",
        "George",
        "Timothy",
        "Ronald",
        "Jason",
        "Edward",
        "Jeffrey",
        "Ryan",
        "Jacob",
        "Gary",
        "Nicholas",
        "Eric",
        "Jonathan",
        "Justin",
        "Scott",
        "Brandon",
        "Benjamin",
        "Samuel",
        "Gregory",
        "Alexander",
        "Patrick",
        "Frank",
        "Raymond",
        "Jack",
        "Dennis",
        "Jerry",
        "Tyler",
        "Aaron",
        "Adam",
        "Arthur",
    ),
}
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
    "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward",
    "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza",
    "Ruiz", "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long",
    "Ross", "Foster", "Jimenez", "Butler", "Cole", "Yang", "Spencer", "Hawkins", "Jensen",
)  # fmt: skip
EMAIL_DOMAINS = ("example.com", "example.org", "example.net")  # measured: a third each
STREET_SUFFIXES = (
    "Street", "Avenue", "Road", "Lane", "Drive", "Court", "Place", "Way", "Trail", "Path",
    "Heights", "Lake", "Mall", "Pass", "Plaza", "Junction", "Crossing", "Harbor", "Vista",
    "Mission", "Center", "Spurs", "Walk", "Freeway", "Parks", "Pike", "Lock", "Coves", "Keys",
    "Greens", "Light", "Neck", "Mews", "Ridge", "Summit", "Village",
)  # fmt: skip
UNIT_PREFIXES = ("Apt.", "Suite")


class City(NamedTuple):
    """A place users live in; postal codes are prefix + `postal_digits` random digits + suffix."""

    country: str
    state: str
    city: str
    latitude: float
    longitude: float
    postal_prefix: str
    postal_digits: int
    postal_suffix: str = ""


def _load_cities() -> tuple[City, ...]:
    with (Path(__file__).resolve().parent / "reference" / "cities.csv").open(encoding="utf-8") as f:
        return tuple(
            City(*row[:3], float(row[3]), float(row[4]), row[5], int(row[6]), row[7])
            for row in list(csv.reader(f))[1:]
        )


CITIES = _load_cities()
