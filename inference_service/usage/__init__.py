"""Usage accounting: requests, errors and tokens per endpoint, API key and hour, counted in
each worker's memory (:mod:`.accounts`), added to the SQL store in batches (:mod:`.flusher`),
and summarized for the API and the command line (:mod:`.report`)."""
