"""A realistic RA catalogue for the fake: tens of thousands of titles over many consoles, with
the titles that make matching hard (commas, moved articles, accents, tags, subsets, one title on
several consoles, titles that are prefixes of many others)."""

from __future__ import annotations

import random

from tests.fakes.fake_ra import FakeRA

CONSOLES = {
    1: "Genesis/Mega Drive", 2: "Nintendo 64", 3: "SNES/Super Famicom", 4: "Game Boy",
    5: "Game Boy Advance", 6: "Game Boy Color", 7: "NES/Famicom", 8: "PC Engine/TurboGrafx-16",
    9: "Sega CD", 10: "32X", 11: "Master System", 12: "PlayStation", 13: "Atari Lynx",
    14: "Neo Geo Pocket", 15: "Game Gear", 17: "Atari Jaguar", 18: "Nintendo DS",
    21: "PlayStation 2", 23: "Magnavox Odyssey 2", 24: "Pokemon Mini", 25: "Atari 2600",
    27: "Arcade", 28: "Virtual Boy", 29: "MSX", 33: "SG-1000", 37: "Amstrad CPC",
    38: "Apple II", 39: "Saturn", 40: "Dreamcast", 41: "PlayStation Portable", 43: "3DO",
    44: "ColecoVision", 45: "Intellivision", 46: "Vectrex", 47: "PC-8000/8800", 49: "PC-FX",
    51: "Atari 7800", 53: "WonderSwan", 56: "Neo Geo CD", 57: "Fairchild Channel F",
    63: "Watara Supervision", 69: "Mega Duck", 71: "Arduboy", 72: "WASM-4", 76: "PC Engine CD",
    77: "Atari Jaguar CD", 78: "Nintendo DSi", 80: "Uzebox", 102: "Standalone",
}

# (id, title, console id): the tricky ones, at ids the generated games never take.
TRICKY = [
    (1, "Sonic the Hedgehog", 1),
    (14402, "Dragon Quest III", 3),
    (228, "Super Mario World", 3),
    (700, "Super Metroid", 3),
    (701, "Metroid", 7),
    (702, "Metroid II: Return of Samus", 4),
    (703, "Metroid Fusion", 5),
    (704, "Metroid: Zero Mission", 5),
    (710, "Legend of Zelda, The: A Link to the Past", 3),
    (711, "Legend of Zelda, The", 7),
    (712, "I Have No Mouth, And I Must Scream", 102),
    (713, "American Tale, An", 3),
    (720, "Pokémon Stadium", 2),
    (721, "Ōkami", 21),
    (722, "Bravely Défault II", 18),
    (730, "Tetris", 4),
    (731, "Tetris", 7),
    (732, "Tetris", 27),
    (740, "~Hack~ Super Mario World: Kaizo Edition", 3),
    (741, "Super Mario World [Subset - Bonus]", 3),
    (742, "Mega Man 2", 7),
    (743, "Mega Man 2 [Subset - Bonus]", 7),
    (744, "~Homebrew~ Classic Kong", 7),
    (745, "Puyo Puyo~n", 2),
    (746, "~Hack~ Dragoon X Omega", 3),
    (750, "Final Fantasy VII", 12),
    (751, "Final Fantasy Tactics: The War of the Lions", 41),
    (752, "1942", 7),
    (753, "Donkey Kong", 27),
    (754, "Donkey Kong", 7),
    (755, "Donkey Kong Country", 3),
]

_FIRST = [
    "Super", "Mega", "Ultra", "Hyper", "Final", "Dragon", "Star", "Shadow", "Crystal", "Iron",
    "Silver", "Golden", "Dark", "Bright", "Cosmic", "Turbo", "Ninja", "Space", "Street", "Wild",
    "Royal", "Magic", "Mystic", "Thunder", "Blaze", "Frost", "Neon", "Pixel", "Retro", "Atomic",
]
_SECOND = [
    "Quest", "Fighter", "Racer", "Warrior", "Legend", "Saga", "Adventure", "Hero", "Knight",
    "Soccer", "Tennis", "Golf", "Pinball", "Puzzle", "Kart", "Blaster", "Commando", "Wars",
    "Chronicles", "Tales", "Odyssey", "Force", "Squad", "Run", "Dash", "Island", "Castle",
    "Dungeon", "Galaxy", "Empire",
]
_THIRD = ["", "", "", " II", " III", " IV", " 64", " Deluxe", " Gaiden", " Returns", " Zero",
          " DX", ": The Lost Crown", ": Revenge", " Advance", " Turbo", " '95", " Special"]
_TAGS = ["", "", "", "", "", "", "", "", "~Hack~ ", "~Homebrew~ ", "~Prototype~ ", "~Demo~ "]


def seed_catalogue(fake: FakeRA, size: int = 30_000, seed: int = 1) -> None:
    """About `size` games with achievements (and some without), over CONSOLES."""
    for console_id, name in CONSOLES.items():
        fake.add_console(console_id, name)
    for game_id, title, console_id in TRICKY:
        if game_id in fake.games:  # the sample data's games keep their figures
            continue
        fake.add_game(game_id, title, console=CONSOLES[console_id], console_id=console_id,
                      icon=f"/Images/{game_id:06d}.png", num_achievements=20, points=200)
    rng = random.Random(seed)
    consoles = list(CONSOLES.items())
    game_id = 10_000
    made = len(TRICKY)
    while made < size:
        game_id += 1
        if game_id == 14402:
            continue
        console_id, console = rng.choice(consoles)
        title = (
            f"{rng.choice(_TAGS)}{rng.choice(_FIRST)} {rng.choice(_SECOND)}{rng.choice(_THIRD)}"
        )
        if rng.random() < 0.3:
            title += f" {rng.randint(2, 9999)}"
        if rng.random() < 0.05:
            title += f" [Subset - {rng.choice(_SECOND)}]"
        achievements = 0 if rng.random() < 0.02 else rng.randint(1, 120)
        fake.add_game(game_id, title, console=console, console_id=console_id,
                      icon=f"/Images/{game_id % 100000:06d}.png",
                      num_achievements=achievements, points=achievements * 10)
        made += 1
