#!/usr/bin/env bash
# The README's quick start: the 2013 Globe and Mail article on Mandiant's APT1 report
# (../shared/seed-article.txt) recorded as claims: who blames whom for the APT1 intrusions, with
# what confidence, who denies it; then the dossier with its evidence, the attribution report
# and a CSV export.
# Uses the database named by TRACKER_DB (default: a SQLite file in your user data folder).
set -euo pipefail

# Who speaks, and whom the claims are about.
tracker actor add Mandiant --kind company
tracker actor add China --kind government
tracker actor add "People's Liberation Army" --kind government
tracker actor add "PLA Unit 61398" --kind group --alias APT1 --alias "Comment Crew"
tracker actor add "Tom Donilon" --kind person --description "White House national security adviser"
tracker actor relate "PLA Unit 61398" part-of "People's Liberation Army"
tracker actor relate "People's Liberation Army" part-of China

# What happened: the incident the claims are about.
tracker incident add "APT1 intrusions" --kind data-theft --date 2006 --until 2013-02

# Where we read it: the Globe article reports the Mandiant report.
tracker source add "APT1: Exposing One of China's Cyber Espionage Units" \
  --publisher Mandiant --kind report --date 2013-02-19 --reliability B
tracker source add "Obama raises hacking concerns with China's Xi" \
  --publisher "The Globe and Mail" --kind article --date 2013-03 \
  --url https://www.theglobeandmail.com/news/world/obama-raises-hacking-concerns/article9745383/ \
  --cites "APT1: Exposing One of China's Cyber Espionage Units"

# The claims: Mandiant blames the unit with high confidence, Donilon points at China, China
# denies it for itself and its unit. `claim add` prints the new id alone, so scripts keep it.
mandiant=$(tracker claim add "A unit of China's People's Liberation Army stole hundreds of terabytes of data from at least 141 organizations, mostly in the United States" \
  --by Mandiant --incident "APT1 intrusions" --blames APT1 --confidence high \
  --date 2013-02-19 --tag cyber-espionage \
  --source "APT1: Exposing One of China's Cyber Espionage Units" \
  --source "Obama raises hacking concerns with China's Xi")
tracker claim add "The international community cannot tolerate such activity from any country" \
  --by "Tom Donilon" --incident "APT1 intrusions" --blames China --date 2013-03 \
  --quote "The international community cannot afford to tolerate such activity from any country" \
  --source "Obama raises hacking concerns with China's Xi"
denial=$(tracker claim add "The Chinese state is not behind online espionage; China is also a victim" \
  --by China --incident "APT1 intrusions" --clears "PLA Unit 61398" --clears China --date 2013-03 \
  --source "Obama raises hacking concerns with China's Xi")

# China's denial disputes Mandiant's claim; a fact-checker rates the denial.
tracker claim link "$denial" disputes "$mandiant"
tracker claim rate "$denial" unverifiable --note "No evidence offered either way" --by "Desk A"

# The dossier of Mandiant's claim: sources with their chain, the evidence (one origin behind
# both sources, and it is Mandiant's own), who disputes it, history.
tracker claim show "$mandiant"

# Who is blamed for the incident, by whom, on how many independent origins, who denies it.
tracker report attribution "APT1 intrusions"

# The claim report for colleagues: opens in Excel or LibreOffice.
tracker export claims -o claims.csv
