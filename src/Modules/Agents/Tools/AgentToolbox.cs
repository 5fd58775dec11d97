using System.Globalization;
using System.Text;
using System.Text.Json;
using Conclave.Sessions.Contracts;
using Microsoft.SemanticKernel;

namespace Conclave.Agents.Tools;

/// <summary>
/// One agent's tools. It describes them for the system prompt (exactly these, with signatures),
/// checks each call the model makes, and answers a call that names no tool or has bad arguments
/// with a correction naming the real tools instead of failing.
/// </summary>
internal sealed class AgentToolbox(IReadOnlyList<KernelFunction> functions, IReadOnlyList<string>? instructions = null)
{
    private static readonly Kernel Kernel = new();

    public IReadOnlyList<KernelFunction> Functions { get; } = functions;

    /// <summary>What the tools ask of the agent besides their signatures (e.g. how to cite passages).</summary>
    public IReadOnlyList<string> Instructions { get; } = instructions ?? [];

    /// <summary>"name(param: type, ...)" for each tool; a '?' marks an optional parameter.</summary>
    public IEnumerable<string> Signatures => Functions.Select(Signature);

    /// <summary>The tools section of the agent's system prompt.</summary>
    public string Describe()
    {
        if (Functions.Count == 0)
        {
            return "You have no tools. Do not call any function; answer in text.";
        }

        var text = new StringBuilder("Your tools are exactly these functions; call only them, by these names, with JSON arguments:\n");
        foreach (var function in Functions)
        {
            text.Append("- ").Append(Signature(function)).Append(": ").Append(function.Description).Append('\n');
        }

        text.Append("No other tools exist.");
        foreach (var instruction in Instructions)
        {
            text.Append("\n\n").Append(instruction);
        }

        return text.ToString();
    }

    /// <summary>Checks a call; returns the function and its arguments, or a correction for the agent.</summary>
    public CheckedCall Check(string name, string argumentsJson)
    {
        var function = Functions.FirstOrDefault(f => f.Name == name);
        if (function is null)
        {
            return CheckedCall.Rejected(
                Functions.Count == 0
                    ? $"There is no tool named '{name}': you have no tools. Answer in text without calling any function."
                    : $"There is no tool named '{name}'. Your tools are exactly: {string.Join(", ", Signatures)}. Call one of these, or answer without a tool.");
        }

        var usage = $"Call it as {Signature(function)} with a JSON object of arguments";
        Dictionary<string, JsonElement>? parsed;
        try
        {
            parsed = string.IsNullOrWhiteSpace(argumentsJson)
                ? []
                : JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(argumentsJson);
        }
        catch (JsonException e)
        {
            return CheckedCall.Rejected($"The arguments of {name} are not valid JSON ({e.Message.Split('.')[0]}). {usage}.");
        }

        parsed ??= [];
        var parameters = function.Metadata.Parameters;
        var unknown = parsed.Keys.Where(k => parameters.All(p => p.Name != k)).ToList();
        if (unknown.Count > 0)
        {
            return CheckedCall.Rejected($"{name} has no parameter {string.Join(", ", unknown.Select(u => $"'{u}'"))}. {usage}.");
        }

        var arguments = new KernelArguments();
        foreach (var parameter in parameters)
        {
            if (!parsed.TryGetValue(parameter.Name, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
            {
                if (parameter.IsRequired)
                {
                    return CheckedCall.Rejected($"{name} needs the argument '{parameter.Name}'. {usage}.");
                }

                continue;
            }

            if (parameter.ParameterType == typeof(int))
            {
                // A whole number; models sometimes quote one ("5").
                if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number)
                    || value.ValueKind == JsonValueKind.String && int.TryParse(value.GetString(), NumberStyles.Integer, CultureInfo.InvariantCulture, out number))
                {
                    arguments[parameter.Name] = number;
                    continue;
                }

                return CheckedCall.Rejected($"The argument '{parameter.Name}' of {name} must be a whole number. {usage}.");
            }

            if (parameter.ParameterType == typeof(bool))
            {
                // true or false; models sometimes quote one ("true").
                if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
                {
                    arguments[parameter.Name] = value.GetBoolean();
                    continue;
                }

                if (value.ValueKind == JsonValueKind.String && bool.TryParse(value.GetString(), out var flag))
                {
                    arguments[parameter.Name] = flag;
                    continue;
                }

                return CheckedCall.Rejected($"The argument '{parameter.Name}' of {name} must be true or false. {usage}.");
            }

            if (parameter.ParameterType == typeof(double))
            {
                if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var real)
                    || value.ValueKind == JsonValueKind.String && double.TryParse(value.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out real))
                {
                    arguments[parameter.Name] = real;
                    continue;
                }

                return CheckedCall.Rejected($"The argument '{parameter.Name}' of {name} must be a number. {usage}.");
            }

            if (parameter.ParameterType == typeof(JsonElement))
            {
                // Any JSON (an array, an object): the tool's server checks it against its own schema.
                arguments[parameter.Name] = value.Clone();
                continue;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                return CheckedCall.Rejected($"The argument '{parameter.Name}' of {name} must be a string, not {value.ValueKind.ToString().ToLowerInvariant()}. {usage}.");
            }

            arguments[parameter.Name] = value.GetString();
        }

        return new CheckedCall(function, arguments, null);
    }

    public static async Task<ToolAnswer> InvokeAsync(KernelFunction function, KernelArguments arguments, CancellationToken cancellationToken)
    {
        var result = await function.InvokeAsync(Kernel, arguments, cancellationToken);
        return result.GetValue<ToolAnswer>() ?? ToolAnswer.Ok("(no output)");
    }

    private static string Signature(KernelFunction function) =>
        $"{function.Name}({string.Join(", ", function.Metadata.Parameters.Select(Parameter))})";

    /// <summary>"code: string", or "top_k?: integer" for an optional whole number.</summary>
    private static string Parameter(KernelParameterMetadata parameter) =>
        $"{parameter.Name}{(parameter.IsRequired ? "" : "?")}: {TypeName(parameter.ParameterType)}";

    private static string TypeName(Type? type) =>
        type == typeof(int) ? "integer"
        : type == typeof(bool) ? "boolean"
        : type == typeof(double) ? "number"
        : type == typeof(JsonElement) ? "json"
        : "string";
}

/// <summary>A call that passed the checks (<see cref="Function"/> set) or the correction for one that did not.</summary>
internal sealed record CheckedCall(KernelFunction? Function, KernelArguments? Arguments, string? Correction)
{
    public static CheckedCall Rejected(string correction) => new(null, null, correction);
}
