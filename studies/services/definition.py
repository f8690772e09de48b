"""Defining a study: arms, tasks, participants and their assignments, checked whole then written.

Every problem with a definition is collected first and reported together; nothing is written
unless the whole definition is sound (as ingest does with a corpus). Assignments are made when
the study is created: within-subject studies take each participant's arm order from a balanced
Latin square (studies/designs.py); interleaving studies show both arms in every task.
Arms name registered models; a name that is not registered yet but loads (a shipped model such
as ``baseline``, a checkpoint folder) is registered, inactive, when the study is written. Arm
models without vectors for the study's figures get them queued on commit.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, QuerySet

from accounts.models import User
from retrieval import inference
from retrieval.exceptions import ModelRegistrationError
from retrieval.models import Corpus, Figure, Patent, RetrievalModel
from retrieval.selectors.corpora import newest_figure_id
from retrieval.selectors.search_text import search_texts_missing
from retrieval.services.batches import BROKER_ERRORS
from retrieval.services.encoding import figure_encode_batch, figures_encode_enqueue
from retrieval.services.models import model_register
from retrieval.services.search_text import figure_search_text_batch
from studies.designs import arm_for
from studies.exceptions import StudyDefinitionError
from studies.models import Arm, Assignment, Participant, Study, Task

TEXT_SUFFIX = "+text"
PARTICIPANT_ROLES = (User.Role.PARTICIPANT, User.Role.EXAMINER)
MAX_QUERY_VIEWS = 8


@dataclass(frozen=True)
class TaskSpec:
    query_figure_ids: Sequence[int]
    text: str = ""
    gallery_id: int | None = None
    known_relevant: Sequence[str] = ()


@dataclass
class _Problems:
    items: list[dict[str, str]] = field(default_factory=list)

    def add(self, where: str, reason: str) -> None:
        self.items.append({"where": where, "reason": reason})

    def raise_if_any(self) -> None:
        if self.items:
            first = self.items[0]
            more = f" (and {len(self.items) - 1} more problems)" if len(self.items) > 1 else ""
            raise StudyDefinitionError(
                f"The study was not created: {first['where']}: {first['reason']}{more}.",
                {"problems": self.items},
            )


def arm_parse(spec: str) -> tuple[str, str]:
    """``NAME`` (drawing only) or ``NAME+text`` (drawing + text) -> (model name, mode)."""
    spec = spec.strip()
    if spec.endswith(TEXT_SUFFIX):
        return spec[: -len(TEXT_SUFFIX)], Arm.Mode.DRAWING_TEXT
    return spec, Arm.Mode.DRAWING


def study_create(
    *, name: str, arms: Sequence[str], tasks: Sequence[TaskSpec], participants: Sequence[str],
    design: str = Study.Design.WITHIN, k: int = 10, time_limit_s: int | None = None, seed: int = 0,
    description: str = "", created_by: User | None = None, queue_vectors: bool = True,
) -> Study:
    """Create a study (arms given as model names, ``NAME+text`` for drawing + text).

    Arm models that lack vectors for the study's figures get them queued for the workers on
    commit (``queue_vectors``), or left for :func:`study_encode_missing` to compute here.
    """
    problems = _Problems()
    name = name.strip()
    if not name:
        problems.add("name", "a study needs a name")
    elif Study.objects.filter(name=name).exists():
        problems.add("name", f"a study named {name!r} already exists")
    unregistered = _check_arms(arms, design, problems)
    users = _check_participants(participants, problems)
    _check_tasks(tasks, problems)
    if design not in Study.Design.values:
        problems.add("design", f"must be one of {', '.join(Study.Design.values)}")
    if not 1 <= k <= 100:
        problems.add("k", "must be between 1 and 100")
    if time_limit_s is not None and time_limit_s < 10:
        problems.add("time_limit_s", "must be at least 10 seconds")
    _check_storable(Study, {"time_limit_s": time_limit_s, "seed": seed}, problems)
    problems.raise_if_any()
    with transaction.atomic():
        models = _arm_models(arms, unregistered)
        try:
            with transaction.atomic():
                study = Study.objects.create(
                    name=name, description=description, design=design, k=k, time_limit_s=time_limit_s,
                    seed=seed, created_by=created_by,
                    gallery_upto=newest_figure_id(),
                )
        except IntegrityError as exc:  # the same name created at the same moment
            raise StudyDefinitionError(f"The study was not created: name: a study named {name!r} already exists.",
                                       {"problems": [{"where": "name", "reason": "already exists"}]}) from exc
        arm_rows = [
            Arm.objects.create(study=study, name=spec.strip(), model=models[spec.strip()], mode=arm_parse(spec)[1],
                               position=i)
            for i, spec in enumerate(arms)
        ]
        task_rows = []
        for i, spec in enumerate(tasks):
            task = Task.objects.create(study=study, position=i, text=spec.text, gallery_id=spec.gallery_id,
                                       known_relevant=list(spec.known_relevant))
            task.query_figures.set(spec.query_figure_ids)
            task_rows.append(task)
        for p, user in enumerate(users):
            _participant_add(study, user, p, arm_rows, task_rows)
        if queue_vectors:
            for model, missing in study_vectors_missing(study=study).items():
                figures_encode_enqueue(figure_ids=missing, model=model)
    return study


def _participant_add(study: Study, user: User, position: int, arms: list[Arm], tasks: list[Task]) -> Participant:
    """The participant and an assignment per task (within design: the arm of its Latin-square row)."""
    participant = Participant.objects.create(study=study, user=user, position=position)
    Assignment.objects.bulk_create([
        Assignment(participant=participant, task=task, position=t,
                   arm=arms[arm_for(participant=position, task=t, n_arms=len(arms))]
                   if study.design == Study.Design.WITHIN else None)
        for t, task in enumerate(tasks)
    ])
    return participant


def study_add_participants(*, study: Study, participants: Sequence[str]) -> list[Participant]:
    """Add participants to a running study; each takes the next row of the Latin square."""
    problems = _Problems()
    users = _check_participants(participants, problems)
    taken = set(study.participants.filter(user__in=users).values_list("user__username", flat=True))
    for name in sorted(taken):
        problems.add("participants", f"{name!r} already takes part in this study")
    problems.raise_if_any()
    with transaction.atomic():
        Study.objects.select_for_update().filter(pk=study.pk).exists()  # one row of the square each
        arms = list(study.arms.order_by("position"))
        tasks = list(study.tasks.order_by("position"))
        start = study.participants.count()
        return [_participant_add(study, user, start + i, arms, tasks) for i, user in enumerate(users)]


def study_create_from_corpus(
    *, name: str, arms: Sequence[str], corpus_name: str, n_tasks: int, views: int = 2,
    participants: Sequence[str], seed: int = 0, text: bool = True, **options: object,
) -> Study:
    """A study whose tasks are N patents of a corpus: up to ``views`` of each patent's drawings
    are the query, the rest of the corpus is the gallery, the patent itself is the known answer
    (when it has drawings left), its title (or object name) the task's text."""
    corpus = Corpus.objects.filter(name=corpus_name).first()
    if corpus is None:
        raise StudyDefinitionError(f"There is no corpus named {corpus_name!r}.")
    if n_tasks < 1 or views < 1:
        raise StudyDefinitionError("--tasks and --views must be at least 1.")
    patents = list(
        Patent.objects.filter(figures__corpus=corpus, figures__status=Figure.Status.READY,
                              figures__is_front_page=False).distinct().order_by("patent_id")
    )
    if len(patents) < n_tasks:
        raise StudyDefinitionError(
            f"Corpus {corpus_name!r} has {len(patents)} patents with drawings; {n_tasks} tasks asked for."
        )
    chosen = sorted(random.Random(seed).sample(patents, n_tasks), key=lambda p: p.patent_id)
    specs = []
    for patent in chosen:
        figure_ids = list(
            Figure.objects.filter(patent=patent, corpus=corpus, status=Figure.Status.READY,
                                  is_front_page=False).values_list("id", flat=True)
        )
        query = figure_ids[:views]
        specs.append(TaskSpec(
            query_figure_ids=query, gallery_id=corpus.pk,
            text=(patent.title or patent.object_name) if text else "",
            known_relevant=[patent.patent_id] if len(figure_ids) > len(query) else [],
        ))
    return study_create(name=name, arms=arms, tasks=specs, participants=participants, seed=seed,
                        **options)  # type: ignore[arg-type]


def _check_arms(arms: Sequence[str], design: str, problems: _Problems) -> list[str]:
    """The model names the arms need; returns those not registered yet (registered on write)."""
    specs = [a.strip() for a in arms]
    if len(specs) < 2:
        problems.add("arms", "a study needs at least two arms")
    if design == Study.Design.INTERLEAVE and len(specs) != 2:
        problems.add("arms", "team-draft interleaving compares exactly two arms")
    if len(set(specs)) != len(specs):
        problems.add("arms", "arms must be different")
    names = {arm_parse(s)[0] for s in specs}
    registered = set(RetrievalModel.objects.filter(name__in=names).values_list("name", flat=True))
    missing = sorted(names - registered)
    for name in missing:
        if not name or not inference.model_available(name):
            problems.add("arms", f"no registered model is named {name!r}, and no built model has that name")
    return missing


def _arm_models(specs: Sequence[str], unregistered: Sequence[str]) -> dict[str, RetrievalModel]:
    """The model of each arm, registering (inactive) the shipped or checkpoint models named so."""
    for name in unregistered:
        try:
            model_register(spec=name, name=name)
        except ModelRegistrationError as exc:
            raise StudyDefinitionError(
                f"The study was not created: arms: {exc.message} Register it with register_model first.",
                {"problems": [{"where": "arms", "reason": exc.message}]},
            ) from exc
    names = {arm_parse(s)[0] for s in specs}
    models = {m.name: m for m in RetrievalModel.objects.filter(name__in=names)}
    return {s.strip(): models[arm_parse(s)[0]] for s in specs}


def _check_storable(model: type, values: dict[str, int | None], problems: _Problems) -> None:
    """Numbers the model's integer columns can hold (the database's own range): PostgreSQL
    refuses a larger one with an error that would surface as a 500."""
    for name, value in values.items():
        if value is None:
            continue
        low, high = connection.ops.integer_field_range(model._meta.get_field(name).get_internal_type())
        if value > high:
            problems.add(name, f"must be at most {high}")
        elif value < low:
            problems.add(name, f"must be at least {low}")


def _check_participants(names: Sequence[str], problems: _Problems) -> list[User]:
    names = [n.strip() for n in names if n.strip()]
    if not names:
        problems.add("participants", "a study needs at least one participant")
    if len(set(names)) != len(names):
        problems.add("participants", "participants are listed twice")
    users = {u.username: u for u in User.objects.filter(username__in=names)}
    for n in names:
        user = users.get(n)
        if user is None:
            problems.add("participants", f"no user is named {n!r} (create it with create_user {n} --role participant)")
        elif user.role not in PARTICIPANT_ROLES:
            problems.add("participants", f"user {n!r} is an {user.role}; participants are participants or examiners")
    return [users[n] for n in dict.fromkeys(names) if n in users]


def _check_tasks(tasks: Sequence[TaskSpec], problems: _Problems) -> None:
    if not tasks:
        problems.add("tasks", "a study needs at least one task")
    wanted = {int(i) for t in tasks for i in t.query_figure_ids}
    ready = set(Figure.objects.filter(pk__in=wanted, status=Figure.Status.READY).values_list("pk", flat=True))
    galleries = {t.gallery_id for t in tasks if t.gallery_id is not None}
    known_galleries = set(Corpus.objects.filter(pk__in=galleries).values_list("pk", flat=True))
    for i, task in enumerate(tasks, start=1):
        if not task.query_figure_ids:
            problems.add(f"task {i}", "no query drawing")
        if len(task.query_figure_ids) > MAX_QUERY_VIEWS:
            problems.add(f"task {i}", f"more than {MAX_QUERY_VIEWS} query drawings")
        for fid in task.query_figure_ids:
            if int(fid) not in ready:
                problems.add(f"task {i}", f"figure {fid} does not exist or is not ready")
        if task.gallery_id is not None and task.gallery_id not in known_galleries:
            problems.add(f"task {i}", f"corpus {task.gallery_id} does not exist")


def _study_figures(study: Study) -> QuerySet[Figure]:
    """The ready figures a study's tasks read: their query drawings and their galleries."""
    galleries = set(study.tasks.values_list("gallery_id", flat=True))
    query_ids = Task.query_figures.through.objects.filter(task__study=study).values_list("figure_id", flat=True)
    figures = Figure.objects.filter(status=Figure.Status.READY)
    if study.gallery_upto is not None:
        figures = figures.filter(pk__lte=study.gallery_upto)
    if None not in galleries:
        figures = figures.filter(Q(corpus_id__in=galleries) | Q(pk__in=query_ids))
    return figures


def study_vectors_missing(*, study: Study) -> dict[RetrievalModel, list[int]]:
    """Per arm model, the figures (query drawings and galleries) it has no vector for yet."""
    figures = _study_figures(study)
    return {
        model: list(figures.exclude(embeddings__model=model).order_by("id").values_list("id", flat=True))
        for model in {arm.model for arm in study.arms.select_related("model")}
    }


#: A participant told to wait asks again every 30 s; the missing vectors are queued at most this often.
STUDY_REQUEUE_SECONDS = 5 * 60


def study_vectors_queue(*, study: Study) -> int:
    """Queue the arm models' missing vectors for the workers (on commit), at most once per
    ``STUDY_REQUEUE_SECONDS`` per study. The vectors a study needs are queued when it is created
    (its galleries are fixed then: ``Study.gallery_upto``), but a figure can lose its vector later
    (an admin replaced its image) and the workers encode it again under the active model only, so
    a task waiting for another arm's model would wait for ever. Returns the batches queued (0 when throttled).
    Safe twice: encoding is idempotent, a figure already encoded is skipped."""
    try:
        if not caches["default"].add(f"study-vectors-queued:{study.pk}", 1, timeout=STUDY_REQUEUE_SECONDS):
            return 0
    except BROKER_ERRORS:  # the cache is the broker's Redis: nothing could be queued either
        return 0
    return sum(figures_encode_enqueue(figure_ids=missing, model=model)
               for model, missing in study_vectors_missing(study=study).items() if missing)


def study_encode_missing(*, study: Study, progress: Callable[[int, int], None] | None = None) -> int:
    """Compute the missing vectors of the study's arm models in this process (idempotent, like
    the encoding task it shares its service with), and where an arm searches with the task's text,
    the missing or outdated text rows of its figures (a task waits for both). Returns how many
    figures were encoded."""
    if study.arms.filter(mode=Arm.Mode.DRAWING_TEXT).exists():
        texts = search_texts_missing(figure_ids=list(_study_figures(study).values_list("id", flat=True)))
        for start in range(0, len(texts), settings.RETRIEVAL_ENCODE_BATCH_SIZE):
            figure_search_text_batch(figure_ids=texts[start : start + settings.RETRIEVAL_ENCODE_BATCH_SIZE])
    work = [(model, ids) for model, ids in study_vectors_missing(study=study).items() if ids]
    total, done, encoded = sum(len(ids) for _, ids in work), 0, 0
    size = settings.RETRIEVAL_ENCODE_BATCH_SIZE
    for model, ids in work:
        for start in range(0, len(ids), size):
            batch = ids[start : start + size]
            encoded += figure_encode_batch(figure_ids=batch, model_id=model.pk)
            done += len(batch)
            if progress:
                progress(done, total)
    return encoded
