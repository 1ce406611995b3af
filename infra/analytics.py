"""Analytics: the Glue table over results/, an Athena workgroup, and the project's named queries.

The table's columns come from ``rootwatch.domain.records.RECORD_FIELDS`` (the one record schema),
and ``dt`` is a projected partition: Athena computes the partitions from
``storage.location.template`` and never needs MSCK REPAIR or a crawler. The named queries are the
project's ``lambdas/rootwatch/queries/*.sql`` files, the same SQL the CLI runs locally on DuckDB,
rendered for Athena by ``rootwatch.analytics.catalog.named_query_sql``.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct
from rootwatch.analytics.catalog import load_queries, named_query_sql
from rootwatch.domain.records import RECORD_FIELDS

from infra.config import RootwatchConfig
from infra.storage import RESULTS_PREFIX, Storage, private_bucket, removal_policy

RESULTS_TABLE = "results"
#: The first day the projection offers; a query for earlier days simply finds nothing.
PROJECTION_START = "2024-11-01"


class Analytics(Construct):
    """Glue database and projected table, Athena workgroup with its own results bucket, named queries."""

    def __init__(self, scope: Construct, construct_id: str, *, config: RootwatchConfig, storage: Storage) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        location = f"s3://{storage.bucket.bucket_name}/{RESULTS_PREFIX}"

        self.database_name = f"{config.glue_name}"
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=stack.account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name, description="rootwatch audit results (one row per account per run)"
            ),
        )
        self.table = glue.CfnTable(
            self,
            "ResultsTable",
            catalog_id=stack.account,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=RESULTS_TABLE,
                description="rootwatch records: results/dt=YYYY-MM-DD/<run_id>.json.gz (gzip JSON Lines)",
                table_type="EXTERNAL_TABLE",
                partition_keys=[glue.CfnTable.ColumnProperty(name="dt", type="string", comment="run date, UTC")],
                parameters={
                    "classification": "json",
                    "compressionType": "gzip",
                    "projection.enabled": "true",
                    "projection.dt.type": "date",
                    "projection.dt.format": "yyyy-MM-dd",
                    "projection.dt.range": f"{PROJECTION_START},NOW",
                    "projection.dt.interval": "1",
                    "projection.dt.interval.unit": "DAYS",
                    "storage.location.template": location + "dt=${dt}/",
                },
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=location,
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library="org.openx.data.jsonserde.JsonSerDe",
                        parameters={"ignore.malformed.json": "FALSE", "dots.in.keys": "FALSE"},
                    ),
                    columns=[
                        glue.CfnTable.ColumnProperty(name=f.name, type=f.athena_type, comment=f.description[:255])
                        for f in RECORD_FIELDS
                    ],
                ),
            ),
        )
        self.table.node.add_dependency(self.database)

        self.query_results = private_bucket(
            self,
            "QueryResults",
            removal=removal_policy(config),
            access_logs=storage.access_logs,
            access_logs_prefix="athena-results-bucket/",
            lifecycle_rules=[s3.LifecycleRule(id="expire-query-results", expiration=cdk.Duration.days(30))],
        )
        self.workgroup_name = config.resource_prefix
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.workgroup_name,
            description="rootwatch queries: own encrypted result location, bytes-scanned cutoff",
            state="ENABLED",
            recursive_delete_option=config.removal_policy == "destroy",
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=config.athena_bytes_scanned_cutoff_mb * 1024 * 1024,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version="Athena engine version 3"
                ),
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{self.query_results.bucket_name}/",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )
        self.workgroup.apply_removal_policy(removal_policy(config))

        # The project's queries (lambdas/rootwatch/queries/*.sql), rendered for Athena by the query catalog:
        # {{table}} becomes this Glue table, parameters their defaults (required ones a visible marker).
        self.named_queries: dict[str, athena.CfnNamedQuery] = {}
        table = f"{self.database_name}.{RESULTS_TABLE}"
        for name, named in load_queries().items():
            query = athena.CfnNamedQuery(
                self,
                f"Query-{name}",
                name=f"{config.resource_prefix}-{name}",
                description=named.summary[:1024],
                database=self.database_name,
                query_string=named_query_sql(named, table=table),
                work_group=self.workgroup_name,
            )
            query.node.add_dependency(self.workgroup)
            query.node.add_dependency(self.database)
            self.named_queries[name] = query
