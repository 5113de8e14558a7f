-- wrk script: POST a small non-streaming chat completion.
-- Used by bench/run.py; the Authorization header is set with wrk -H when
-- the target is the gateway (the mock needs none).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"bench-model","messages":[{"role":"user","content":"Say hello in one short sentence."}],"max_tokens":16}'
