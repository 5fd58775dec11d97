// Containers, image builds and a Host each: one test at a time on a 2-core machine keeps timings honest.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
