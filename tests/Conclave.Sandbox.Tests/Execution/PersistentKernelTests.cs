using Conclave.Sandbox.Contracts;
using Conclave.Sandbox.Tests.Fixtures;

namespace Conclave.Sandbox.Tests.Execution;

public sealed class PersistentKernelTests(SandboxFixture fixture) : SandboxTest(fixture)
{
    [DockerFact]
    public async Task Variables_persist_between_executions()
    {
        var session = NewSession();

        await RunOk(session, "x = 41");
        var result = await RunOk(session, "x + 1");

        Assert.Equal("42", result.Result);
    }

    [DockerFact]
    public async Task Stdout_stderr_and_errors_come_back_separately()
    {
        var session = NewSession();

        var result = await Run(session, "import sys\nprint('out')\nprint('err', file=sys.stderr)\n1/0");

        Assert.Equal(ExecutionStatus.Error, result.Status);
        Assert.Equal("out\n", result.Stdout);
        Assert.Equal("err\n", result.Stderr);
        Assert.Equal("ZeroDivisionError", result.Error!.Name);
        Assert.Contains("1/0", result.Error.Traceback);
        Assert.DoesNotContain("\u001b[", result.Error.Traceback, StringComparison.Ordinal);
    }

    [DockerFact]
    public async Task A_matplotlib_plot_returns_a_png_saved_in_the_workspace()
    {
        var session = NewSession();

        var result = await RunOk(session, "import matplotlib.pyplot as plt\nplt.plot([1, 4, 9])\nplt.title('squares')");

        var image = Assert.Single(result.Images);
        Assert.StartsWith("outputs/", image);
        Assert.EndsWith(".png", image);
        await using var png = await Fixture.Workspace.OpenReadAsync(session, image);
        var header = new byte[8];
        await png.ReadExactlyAsync(header);
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, header);
        Assert.Contains((await Fixture.Workspace.ListAsync(session)).Select(f => f.Path), p => p == image);
    }

    [DockerFact]
    public async Task A_pandas_result_comes_back_as_text_and_html()
    {
        var session = NewSession();

        var result = await RunOk(session, "import pandas as pd\npd.DataFrame({'city': ['Oslo', 'Lima'], 'people': [709, 10004]})");

        Assert.Contains("Oslo", result.Result);
        Assert.Contains("<table", result.Html);
    }

    [DockerFact]
    public async Task Huge_output_is_truncated_with_a_note()
    {
        var session = NewSession();

        var result = await RunOk(session, "for i in range(200000):\n    print('line', i)");

        Assert.True(result.Truncated);
        Assert.Contains("[output truncated:", result.Stdout);
        Assert.Contains("bytes omitted]", result.Stdout);
        Assert.StartsWith("line 0\n", result.Stdout);
        Assert.Contains("line 199999", result.Stdout);
        Assert.True(result.Stdout.Length < 16384 + 200, $"stdout kept {result.Stdout.Length} characters");
    }

    [DockerFact]
    public async Task A_huge_result_html_and_error_are_each_cut_with_a_note()
    {
        var session = NewSession();

        var value = await RunOk(session, "'x' * 8_000_000");
        var html = await RunOk(session, """
            class Page:
                def _repr_html_(self):
                    return '<p>' + 'y' * 8_000_000 + '</p>'
            Page()
            """);
        var error = await Run(session, "raise ValueError('z' * 8_000_000)");

        Assert.True(value.Truncated);
        Assert.InRange(value.Result!.Length, 1000, 16384 + 200);
        Assert.Contains("[output truncated:", value.Result, StringComparison.Ordinal);
        Assert.True(html.Truncated);
        Assert.InRange(html.Html!.Length, 1000, 16384 + 200);
        Assert.Contains("[output truncated:", html.Html, StringComparison.Ordinal);
        Assert.Equal("ValueError", error.Error!.Name);
        Assert.InRange(error.Error.Value.Length, 1000, 16384 + 200);
        Assert.Contains("[output truncated:", error.Error.Value, StringComparison.Ordinal);
        Assert.InRange(error.Error.Traceback.Length, 0, 16384 + 200);
    }

    [DockerFact]
    public async Task Reset_starts_a_fresh_kernel_and_keeps_files()
    {
        var session = NewSession();
        await RunOk(session, "x = 1\nopen('kept.txt', 'w').write('still here')");

        await Fixture.Sandbox.ResetAsync(session);
        var result = await Run(session, "print(open('kept.txt').read())\nx");

        Assert.Equal("still here\n", result.Stdout);
        Assert.Equal("NameError", result.Error?.Name);
    }

    [DockerFact]
    public async Task The_tools_answer_in_text_for_a_model()
    {
        var session = NewSession();

        var run = await Fixture.Tools.RunPythonAsync(session, "print('hello')\n6 * 7");
        var written = await Fixture.Tools.WriteFileAsync(session, "notes/a.txt", "some text");
        var listed = await Fixture.Tools.ListFilesAsync(session);
        var read = await Fixture.Tools.ReadFileAsync(session, "notes/a.txt");
        var missing = await Fixture.Tools.ReadFileAsync(session, "nope.txt");
        var escape = await Fixture.Tools.ReadFileAsync(session, "../../etc/passwd");

        Assert.Contains("status: ok", run);
        Assert.Contains("hello", run);
        Assert.Contains("42", run);
        Assert.Contains("Wrote notes/a.txt (9 bytes)", written);
        Assert.Contains("notes/a.txt", listed);
        Assert.Equal("some text", read);
        Assert.StartsWith("error:", missing);
        Assert.StartsWith("error:", escape);
        Assert.DoesNotContain("root:", escape);
    }
}
