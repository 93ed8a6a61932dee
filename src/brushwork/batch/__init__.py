"""Stylizing millions of photos on a Ray cluster (``brushwork stylize ... --ray [ADDRESS]``).

    from brushwork.batch import stylize_dataset
    report = stylize_dataset("starry_night", ["s3://bucket/catalogue"], "/shared/out", address="auto")

Ray is an optional extra (``pip install 'brushwork[ray]'``), imported only when a job runs.
"""

from brushwork.batch.job import DatasetReport, stylize_dataset

__all__ = ["DatasetReport", "stylize_dataset"]
