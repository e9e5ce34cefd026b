"""nlp.pipe over many records where one record that makes the pipeline raise costs that
record only: its batch is run again one record at a time, the culprit comes back with the
reason, and the records after it go on through nlp.pipe (with its processes, if asked).

spaCy's own error handler (`nlp.set_error_handler`) is no help here: it sees a component's
failure for a whole batch (the batch would be lost) and never a failure of the tokenizer."""
from collections import deque
from typing import Any, Deque, Iterable, Iterator, List, Optional, Tuple

from spacy.language import Language
from spacy.tokens import Doc


def failure_reason(err: BaseException) -> str:
    first = str(err).strip().splitlines()
    return f"the pipeline failed on this record: {type(err).__name__}" + (f": {first[0]}" if first else "")


def pipe_guarded(nlp: Language, items: Iterable[Tuple[str, Any]], batch_size: int = 64,
                 n_process: int = 1) -> Iterator[Tuple[Any, Optional[Doc], Optional[str]]]:
    """For each (text, context), in input order: (context, doc, None), or (context, None,
    reason) for a record the pipeline raised on. An exception raised by `items` itself (a
    reader's, --strict's) is no record's failure: it is raised again once the records read
    before it are out. Records failing one after another with the same error, a batch's worth
    (at least 8), are the pipeline's failure, not theirs: that error is raised."""
    source = iter(items)
    source_error: List[BaseException] = []
    retry: Deque[Tuple[str, Any]] = deque()  # fed but not out when nlp.pipe raised
    streak: List = [None, 0]  # the last failure (type, message) and how many records in a row had it
    while True:
        in_flight: Deque[Tuple[str, Any]] = deque()

        def feed():
            while retry:
                item = retry.popleft()
                in_flight.append(item)
                yield item[0], None
            if source_error:
                return
            try:
                for item in source:
                    in_flight.append(item)
                    yield item[0], None
            except Exception as err:  # the reader's: raised again below, after what was read
                source_error.append(err)

        try:
            for doc, _ in nlp.pipe(feed(), as_tuples=True, batch_size=batch_size, n_process=n_process):
                _, context = in_flight.popleft()
                yield context, doc, None
        except Exception:
            if not in_flight:  # no record to blame: the pipeline itself is broken
                raise
            # nlp.pipe keeps the input order, so the batch that failed is the first one still in
            # flight (spaCy batches every component by batch_size). Its records are run alone; a
            # wrong guess costs time, never a record: the loop goes on until nlp.pipe finishes.
            suspects = [in_flight.popleft() for _ in range(min(batch_size, len(in_flight)))]
            retry.extend(in_flight)
            for text, context in suspects:
                try:
                    doc = nlp(text)
                except Exception as err:
                    same = streak[0] == (type(err), str(err))
                    streak[:] = [(type(err), str(err)), streak[1] + 1 if same else 1]
                    if streak[1] >= max(batch_size, 8):
                        # Record after record, alone, failing the same way: that is the pipeline (a
                        # component that always raises, memory run out), not the records: stop.
                        raise
                    yield context, None, failure_reason(err)
                else:
                    streak[:] = [None, 0]
                    yield context, doc, None
            continue
        if source_error:
            raise source_error[0]
        return
