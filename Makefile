# The README's two commands are `make run` and `make test`; the rest are for operators.
PYTHON ?= python3

.PHONY: run run-production test setup train bench-nlu bench-kb bench-kb-real bench-routing bench-real bench-stack bench-production bench-stock bench-voice bench-real-replies bench-faults lock

run:            ## set up everything needed, train if the data changed, start the assistant
	$(PYTHON) -m stack run

run-production: ## several Rasa + action-server instances behind balancers, PostgreSQL + Redis
	$(PYTHON) -m stack run-production

test:           ## the whole test suite (sets up and trains first if needed)
	$(PYTHON) -m stack test

setup:          ## create the environments and train, without starting
	$(PYTHON) -m stack setup

train:          ## train the Rasa model if config, domain or data changed
	$(PYTHON) -m stack train

bench-nlu:      ## intent accuracy / macro-F1 / out-of-scope fallback on the held-out set
	$(PYTHON) -m stack bench-nlu

bench-kb:       ## knowledge-base Recall@k / MRR / no-answer precision, query latency at 1k and 50k chunks
	$(PYTHON) -m stack bench-kb

bench-kb-real:  ## knowledge base on real data (../shared/data/real): real FAQs, real long messages, ~2,000 FAQ documents
	$(PYTHON) -m stack bench-kb-real

bench-routing:  ## department routing accuracy / macro-F1 / confusions on the held-out requests
	$(PYTHON) -m stack bench-routing

bench-real:     ## real citizens' messages (../shared/data/real): routing shipped and with imported history
	$(PYTHON) -m stack bench-real

bench-stack:    ## start-up time; 100 conversations with think time, then saturation: throughput, p50/p95/p99, errors, memory
	$(PYTHON) -m stack bench-stack

bench-production: ## the same in production mode (instances behind balancers, PostgreSQL, Redis)
	$(PYTHON) -m stack bench-production

bench-stock:    ## bench-stack, then the same for the stock `rasa init` configuration, with ratios (trains it once, ~15 min)
	$(PYTHON) -m stack bench-stock

bench-voice:    ## speech recognition CER/WER (clean, noisy, telephone, slow) and voice-turn latency
	$(PYTHON) -m stack bench-voice

bench-real-replies: ## first replies to real citizens' messages (../shared/data/real): KB answer / request flow / status / decline
	$(PYTHON) -m stack bench-real-replies

bench-faults:   ## production mode under load, kill -9 of a random Rasa/action-server instance every 30 s for 3 min
	$(PYTHON) -m stack bench-faults

lock:           ## re-resolve both environments from pyproject.toml and rewrite the lock files
	$(PYTHON) -m stack lock
