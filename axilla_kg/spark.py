"""Audits where the orders live: a Spark DataFrame of orders, judged on the executors.

The judging is the single-process audit's own :class:`~axilla_kg.recommend.audit.OrderJudge`, so
a row gets the same verdict here as from ``axilla-kg audit`` on one machine. What travels:

* the graph, once, as a broadcast variable: the bytes of every RDF file the driver loaded (the
  shipped files and any ``--data``) with the package version. Each Python worker on an executor
  rebuilds the graph and the compiled classifier from them the first time it sees the broadcast
  and keeps them (and the verdict memo) for every later batch;
* the orders, as Arrow record batches (``DataFrame.mapInArrow``): no row is ever turned into a
  Python object by Spark; each batch is judged column-wise as the single-process audit judges a
  Parquet file (:meth:`OrderJudge.judge_batch`: cells become text once per distinct value, exactly
  as in :mod:`axilla_kg.inputs.arrowfile`, and a row of a class met before is a dict lookup).

On a cluster every executor needs Python with ``axilla-kg`` of the driver's version installed
(``pip install axilla-kg[spark]`` in the executors' image, or ``--py-files`` of a wheel); a
version mismatch stops the job with one message rather than judging with other rules. Run it with
``spark-submit`` like any PySpark job, or ``axilla-kg audit ORDERS.parquet --spark MASTER``.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from axilla_kg import __version__
from axilla_kg.errors import DataError, UsageError
from axilla_kg.formats.columnar import schema
from axilla_kg.graph.knowledge import KnowledgeGraph
from axilla_kg.inputs.arrowfile import check_types
from axilla_kg.recommend.audit import ORDER_COLUMNS, OrderJudge
from axilla_kg.recommend.recommender import Recommender

ROW_INDEX = "_axilla_row_index"
_JUDGES: dict[str, OrderJudge] = {}  # per Python worker: job token -> judge (graph loaded once)


def session(master: str, app: str = "axilla-kg audit") -> Any:
    """A Spark session for the command line: the given master, loopback only, no web UI, quiet."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise UsageError("--spark needs PySpark: pip install 'axilla-kg[spark]'") from None
    spark = (
        SparkSession.builder.master(master)
        .appName(app)
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", "65536")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def _payload(kg: KnowledgeGraph) -> tuple[str, list[tuple[str, bytes]]]:
    return __version__, [(path.name, path.read_bytes()) for path in kg.files]


def _judge_for(token: str, payload: tuple[str, list[tuple[str, bytes]]], source: str) -> OrderJudge:
    judge = _JUDGES.get(token)
    if judge is None:
        version, files = payload
        if version != __version__:
            raise RuntimeError(f"the driver runs axilla-kg {version}, this executor {__version__}: install one version")
        folder = Path(tempfile.mkdtemp(prefix="axilla-kg-graph-"))
        paths = []
        for i, (name, data) in enumerate(files):
            path = folder / f"{i:03d}-{name}"
            path.write_bytes(data)
            paths.append(path)
        kg = KnowledgeGraph.load(paths, include_shipped=False)
        judge = _JUDGES[token] = OrderJudge(Recommender.load(kg), source)
    return judge


def audit_dataframe(
    orders: Any, kg: KnowledgeGraph | None = None, line_column: str | None = None, source: str = "orders"
) -> Any:
    """The verdict of every order of a Spark DataFrame, as a DataFrame with the audit's columns
    (``line``, ``order_id``, ``procedure``, ``verdict``, ``variants``, ``acr_category``, ``rrl``,
    ``confidence``, ``message``).

    ``orders`` has the CSV audit's columns (case fields, ``procedure``, optional ``order_id``),
    typed as text, numbers or booleans. ``line_column`` names a whole-number column that numbers
    the rows (it is not a case field); without it the lines are Spark's row ids, unique but not
    consecutive. ``kg`` is the graph to judge with (default: the shipped graph). ``source`` names
    the orders in the message of an invalid row (``SOURCE:LINE: ...``), as the file name does in
    the single-process audit.
    """
    from pyspark.sql import functions

    kg = kg or KnowledgeGraph.load()
    judge_here = OrderJudge(Recommender.load(kg), source)
    header = [c for c in orders.columns if c != line_column]
    check_types(_arrow_schema(orders, header), "orders")
    judge_here.check_header(header, "orders")
    if line_column is None:
        line_column = ROW_INDEX
        orders = orders.withColumn(ROW_INDEX, functions.monotonically_increasing_id())
    broadcast = orders.sparkSession.sparkContext.broadcast(_payload(kg))
    token = uuid.uuid4().hex  # names this job's graph in the workers' cache
    out_schema = schema(ORDER_COLUMNS)
    ddl = ", ".join(f"`{c}` {'long' if c == 'line' else 'string'}" for c in ORDER_COLUMNS)  # the same, for Spark
    line_name = line_column

    def judge_batches(batches: Iterator[Any]) -> Iterator[Any]:
        judge = _judge_for(token, broadcast.value, source)
        for batch in batches:
            lines = [int(line) for line in batch.column(line_name).to_pylist()]
            yield judge.judge_batch(batch.select(header), lines=lines).arrow(out_schema)

    return orders.select(*header, line_column).mapInArrow(judge_batches, ddl)


def _arrow_schema(orders: Any, columns: Sequence[str]) -> Any:
    """The Arrow schema of the DataFrame's columns (from Spark's types, without reading rows)."""
    import pyarrow as pa
    from pyspark.sql import types as T

    mapping = {
        T.StringType: pa.string(),
        T.BooleanType: pa.bool_(),
        T.ByteType: pa.int8(),
        T.ShortType: pa.int16(),
        T.IntegerType: pa.int32(),
        T.LongType: pa.int64(),
        T.FloatType: pa.float32(),
        T.DoubleType: pa.float64(),
        T.NullType: pa.null(),
    }
    fields = []
    for item in orders.schema.fields:
        if item.name not in columns:
            continue
        if isinstance(item.dataType, T.DecimalType):
            fields.append(pa.field(item.name, pa.decimal128(item.dataType.precision, item.dataType.scale)))
            continue
        arrow = mapping.get(type(item.dataType))
        if arrow is None:
            kind = item.dataType.simpleString()
            raise DataError(f"orders: column '{item.name}' has type {kind}; expected text, numbers or booleans")
        fields.append(pa.field(item.name, arrow))
    return pa.schema(fields)


def read_orders(spark: Any, path: Path | str) -> Any:
    """A Parquet file (or folder of Parquet files) of orders, with each row's 1-based number in its
    file as ``line`` (Spark's ``_metadata.row_index``, so numbers match the single-process audit)."""
    from pyspark.sql import functions

    try:
        frame = spark.read.parquet(str(path))
    except Exception as exc:  # AnalysisException and friends: one line naming the file
        raise DataError(f"{path}: cannot read it as Parquet with Spark: {str(exc).splitlines()[0]}") from None
    return frame.withColumn(ROW_INDEX, functions.col("_metadata.row_index") + 1)


def first_line(exc: BaseException) -> str:
    """The message of a Spark or Py4J error without its Java and Python stack traces."""
    for line in str(exc).splitlines():
        line = line.strip()
        if line and not line.startswith(("Traceback", "File ", "at ", "An exception was thrown")):
            return line[:500]
    return type(exc).__name__
