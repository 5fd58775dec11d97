// Every test drives real containers on a 2-core machine: one at a time keeps timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
