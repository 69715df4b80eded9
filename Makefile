# qualcode: the two commands a new user needs are `make demo` and `make test`.
# Both create .venv with the Python 3.11 found on the machine and install qualcode into it.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
DEMO_PROJECT := reports/ips-demo.qualcode
QC     := $(BIN)/qualcode -p $(DEMO_PROJECT)
SAMPLE := transcripts_sample

.PHONY: demo test fuzz venv venv-test clean demo-step1 demo-step2 demo-step3-5 demo-suggest demo-agreement demo-step6 demo-interop

$(BIN)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(BIN)/.installed-test: $(BIN)/.installed
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

venv: $(BIN)/.installed
venv-test: $(BIN)/.installed-test

## make demo: run all six steps on the sample study and write reports/
demo: venv demo-step1 demo-step2 demo-step3-5 demo-suggest demo-agreement demo-step6 demo-interop
	@echo
	@echo "Demo finished. Outputs in reports/:"
	@ls -1 reports/ | grep -v '^ips-demo.qualcode' | sed 's/^/  reports\//'

# Step 1: familiarise
demo-step1: venv
	@mkdir -p reports
	rm -rf $(DEMO_PROJECT) $(DEMO_PROJECT)-wal $(DEMO_PROJECT)-shm $(DEMO_PROJECT).backups
	$(QC) init --codebook codebooks/ips.yaml --language nl
	$(QC) ingest $(SAMPLE)/F1.txt $(SAMPLE)/F2.txt $(SAMPLE)/F3.txt --participants $(SAMPLE)/participants.csv
	$(QC) overview --out reports/overview.md --out reports/overview.xlsx
	$(QC) segments --group F2 --participant P2 --limit 3

# Step 2: generate codes
demo-step2: venv
	$(QC) autocode
	$(QC) sheet export reports/coding.xlsx --coder rules

# Steps 3-5: search, review, define and name themes
demo-step3-5: export QUALCODE_CODER := student
demo-step3-5: venv
	@echo "== steps 3-5: re-theming, review, definitions =="
	$(QC) memo add project "Stap 3 gestart: thema's uit het codeboek herschikt na het lezen van de gecodeerde fragmenten."
	$(QC) theme split paid_work obstacles "Een parcours met hindernissen naar betaald werk" --code pw_drempels_stigma
	$(QC) code move pw_inactiviteitsval obstacles
	$(QC) theme split pathways straight_to_work "Wanneer meteen betaald werk een goed idee is" --code meteen_betaald_werk
	$(QC) code merge co_afremmen_herval co_werk_bij_intake
	$(QC) code rename co_werk_bij_intake "Werk aankaarten of afremmen"
	$(QC) code move st_nazorg collaboration
	$(QC) undo
	$(QC) memo add theme:obstacles "Drempels en inactiviteitsval apart gezet: de deelnemers spreken erover als hindernissen op de weg, niet als eigenschappen van werk."
	$(QC) history --limit 9
	$(QC) review --out reports/review.xlsx --force | tail -n 12
	$(QC) theme set-status pathways straight_to_work paid_work obstacles support collaboration reviewed
	$(QC) theme define pathways --name "Een onbetaald, stapsgewijs voortraject" \
	  --definition "Wat deelnemers zeggen over onbetaalde tussenstappen vóór betaald werk (vrijwilligerswerk, stage, arbeidszorg): de voordelen en de kritiek. Meteen betaald werk zoeken valt onder straight_to_work." \
	  --key-message "Een voortraject is stapsgewijs, flexibel en vrijblijvend: een veilig minilabo om kwaliteiten en valkuilen in kaart te brengen en ervaring op te bouwen." \
	  --key-message "Er is tijd en ruimte voor begeleiding, op of naast de werkvloer, intern of extern." \
	  --key-message "Kritiek: het daagt soms te weinig uit, onbetaald werk voelt als discriminatie, en een goede stage die geen job kan worden ontgoochelt."
	$(QC) theme define straight_to_work \
	  --definition "Voor wie en onder welke voorwaarden deelnemers meteen naar betaald werk zouden gaan (eerst plaatsen, dan trainen)." \
	  --key-message "Meteen betaald werk past vooral bij mensen die vroeger al gewerkt hebben." \
	  --key-message "Werk op maat en een progressieve, deeltijdse werkhervatting met behoud van ziekte-uitkering maken de stap haalbaar." \
	  --key-message "Het lukt bij werkgevers die naar de persoon kijken en niet alleen naar prestaties."
	$(QC) theme define paid_work --name "Betaald werk: wat het oplevert en wat het kost" \
	  --definition "Wat betaald werk volgens de deelnemers brengt en vraagt, los van de weg ernaartoe." \
	  --key-message "Betaald werk geeft financiële vooruitgang, identiteit, structuur en ritme, verbondenheid, hoop, trots en het gevoel normaal te zijn." \
	  --key-message "Hoge werkdruk, weinig flexibiliteit in uren of taken, prestatiegerichtheid en deadlines geven stress die herval kan uitlokken."
	$(QC) theme define obstacles \
	  --definition "De drempels tussen willen en kunnen werken: angst en een laag zelfbeeld, verslaving en psychose, schulden en isolement, stigma, roddels en pesten, en de schrik om een uitkering te verliezen." \
	  --key-message "Willen werken is niet hetzelfde als kunnen werken: schulden en isolement houden mensen vast in een vicieuze cirkel." \
	  --key-message "De inactiviteitsval, de angst om de uitkering te verliezen, remt de stap naar betaald werk af." \
	  --key-message "Stigma rond psychische kwetsbaarheid en rond geen betaald werk hebben weegt zwaar."
	$(QC) theme define support --name "De ideale ondersteuning" \
	  --definition "Welke begeleiding deelnemers nodig vinden op weg naar en tijdens betaald werk, voor cliënt en werkgever." \
	  --key-message "Sluit niemand uit, ook actieve druggebruikers niet, en luister naar wensen en dromen." \
	  --key-message "Volg het tempo van de cliënt, werk outreachend en laagdrempelig, en blijf na de plaatsing langdurig steunen." \
	  --key-message "Geef informatie over jobs en sectoren, progressieve werkhervatting, het effect van een job op het inkomen en wat men een werkgever vertelt."
	$(QC) theme define collaboration --name "Werk en zorg, een Siamese tweeling" \
	  --definition "Hoe zorgverleners werk ter sprake brengen of afremmen, en hoe zorg en arbeidsbemiddeling samenwerken." \
	  --key-message "Of werk bij de intake ter sprake komt, hangt af van de zorgverlener; sommigen remmen af uit schrik voor herval." \
	  --key-message "De samenwerking met VDAB en GTB loopt geval per geval." \
	  --key-message "Een mobiele jobcoach die één dag per week in het zorgteam zit, zien de deelnemers als een brug tussen zorg en werk."
	$(QC) theme set-status pathways straight_to_work paid_work obstacles support collaboration defined
	$(QC) theme list
	$(QC) status

# Step 2 continued: learnt suggestions and inductive discovery
demo-suggest: venv
	@echo "== suggestions learnt from the codings of F1 and F2, for F3; candidate new codes =="
	$(QC) suggest --evaluate --coder rules
	$(QC) suggest --coder rules --group F3 --out reports/suggestions.xlsx --force
	$(QC) discover --n 8 --out reports/discover.xlsx --force > /dev/null
	$(QC) discover --n 8 --out reports/discover.md --force > /dev/null
	sed -n '3,12p' reports/discover.md

# Intercoder agreement (simulated second coder)
demo-agreement: venv
	@echo "== intercoder agreement: two SIMULATED coders on F1 (bench/simulate_coder.py, seed 7; some turns coded as fragments) =="
	$(QC) sheet export reports/coding_rules_F1.xlsx --coder rules --group F1 --force
	$(QC) sheet export reports/coding_a.xlsx --coder coder_a --group F1 --force
	$(QC) sheet export reports/coding_b.xlsx --coder coder_b --group F1 --force
	$(BIN)/python bench/simulate_coder.py reports/coding_rules_F1.xlsx reports/coding_a.xlsx reports/coding_b.xlsx --seed 7
	$(QC) sheet import reports/coding_a.xlsx --coder coder_a
	$(QC) sheet import reports/coding_b.xlsx --coder coder_b
	$(QC) agreement done --coder coder_a --source F1.txt
	$(QC) agreement done --coder coder_b --source F1.txt
	$(QC) agreement --coders coder_a,coder_b --groups F1 --out reports/agreement.xlsx
	$(QC) agreement disagreements --coders coder_a,coder_b --groups F1 --out reports/disagreements.xlsx

# Step 6: write the report
demo-step6: venv
	@echo "== step 6: analysis workbook and supervisor report (the demo has no coding of its own: it shows autocode's rule matches, --coder rules) =="
	$(QC) export workbook reports/analysis.xlsx --coder rules
	$(QC) report --format html,docx,md --out reports/report.html --coder rules --memos

# Interoperability: REFI-QDA export
demo-interop: venv
	@echo "== interoperability: REFI-QDA project and codebook =="
	$(QC) export refi reports/ips.qdpx --force
	$(QC) export refi reports/ips-codebook.qdc --force

## make test: the whole test suite (property tests derandomized: the same examples every run)
test: venv-test
	QUALCODE_HYPOTHESIS_PROFILE=ci $(BIN)/python -m pytest -q

## make fuzz: only the property tests, with fresh random examples, FUZZ_RUNS times (default 10).
## A failure is printed with its example; add it to the test as a fixed @example.
FUZZ_RUNS ?= 10
fuzz: venv-test
	for i in $$(seq $(FUZZ_RUNS)); do \
	  echo "== fuzz run $$i of $(FUZZ_RUNS) =="; \
	  QUALCODE_HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q -m hypothesis || exit 1; \
	done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
