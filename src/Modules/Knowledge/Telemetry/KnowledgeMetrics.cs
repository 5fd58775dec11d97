using System.Diagnostics.Metrics;

namespace Conclave.Knowledge.Telemetry;

/// <summary>The module's instruments, on the meter <c>Conclave.Knowledge</c>: documents indexed and searches.</summary>
internal sealed class KnowledgeMetrics
{
    public const string MeterName = "Conclave.Knowledge";

    private readonly Counter<long> _documents;
    private readonly Histogram<double> _searchDuration;

    public KnowledgeMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _documents = meter.CreateCounter<long>(
            "conclave.knowledge.documents", description: "Document versions indexed, by outcome (ready, failed, copied from a twin).");
        _searchDuration = meter.CreateHistogram<double>(
            "conclave.knowledge.search.duration", unit: "s", description: "Hybrid searches, by mode, from the query to the merged passages.");
    }

    public void DocumentIndexed(string outcome) => _documents.Add(1, new KeyValuePair<string, object?>("outcome", outcome));

    public void Searched(string mode, TimeSpan duration) => _searchDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("mode", mode));
}
