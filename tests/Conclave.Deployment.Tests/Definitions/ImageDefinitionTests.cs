using Conclave.Deployment.Tests.Fixtures;

namespace Conclave.Deployment.Tests.Definitions;

/// <summary>The Dockerfile (builders with a registry) and scripts/image.sh (offline) make the same image.</summary>
public sealed class ImageDefinitionTests
{
    [Fact]
    public async Task The_Dockerfile_and_the_offline_Containerfile_end_the_same_way()
    {
        var dockerfile = await Instructions("Dockerfile");
        var containerfile = await Instructions("deploy/image/Containerfile");

        foreach (var kind in new[] { "ENV", "EXPOSE", "VOLUME", "HEALTHCHECK", "ENTRYPOINT" })
        {
            Assert.Equal(containerfile.Where(i => i.StartsWith(kind, StringComparison.Ordinal)), dockerfile.Where(i => i.StartsWith(kind, StringComparison.Ordinal)));
        }
        Assert.Contains("COPY deploy/image/packages.txt /tmp/packages.txt", dockerfile);
    }

    /// <summary>The instructions of a Dockerfile, continuation lines joined, comments dropped.</summary>
    private static async Task<List<string>> Instructions(string file)
    {
        var text = (await File.ReadAllTextAsync(Repository.PathOf(file))).Replace("\\\n", " ", StringComparison.Ordinal);
        return text.Split('\n')
            .Select(line => System.Text.RegularExpressions.Regex.Replace(line.Trim(), @"\s+", " "))
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .ToList();
    }
}
