using Conclave.Knowledge.Contracts;

namespace Conclave.Knowledge.Tests.Retrieval;

/// <summary>What search_knowledge gives the model is numbered on from where the session is, and bounded like other tool results.</summary>
public sealed class PassagesTests
{
    [Fact]
    public void Passages_are_numbered_from_the_first_number_given()
    {
        var result = KnowledgePassages.ToToolResult([Hit("The warranty lasts 24 months."), Hit("Refunds take 14 days.")], firstNumber: 6);

        Assert.Equal([6, 7], result.Citations.Select(c => c.Number));
        Assert.StartsWith("[6] terms.pdf, page 2\nThe warranty lasts 24 months.\n\n[7] terms.pdf, page 2\n", result.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_long_passage_is_cut_at_a_word_and_the_result_stays_under_its_bound()
    {
        var words = string.Concat(Enumerable.Repeat("warranty ", 2_000));
        var most = Enumerable.Range(0, KnowledgeToolDefinition.MaxTopK).Select(_ => Hit(words)).ToList();
        var tooMany = Enumerable.Range(0, 2 * KnowledgeToolDefinition.MaxTopK).Select(_ => Hit(words)).ToList();

        var result = KnowledgePassages.ToToolResult(most);
        var cut = KnowledgePassages.ToToolResult(tooMany);

        Assert.All(result.Citations, c => Assert.True(c.Passage.Length <= KnowledgeToolDefinition.MaxPassageChars));
        Assert.EndsWith("warranty" + KnowledgePassages.CutMark, result.Citations[0].Passage, StringComparison.Ordinal);
        // The most a call asks for fits whole; more than that stops at the bound.
        Assert.Equal(KnowledgeToolDefinition.MaxTopK, result.Citations.Count);
        Assert.True(result.Text.Length <= KnowledgeToolDefinition.MaxResultChars, $"{result.Text.Length} characters");
        Assert.InRange(cut.Citations.Count, KnowledgeToolDefinition.MaxTopK, 2 * KnowledgeToolDefinition.MaxTopK - 1);
        Assert.True(cut.Text.Length <= KnowledgeToolDefinition.MaxResultChars, $"{cut.Text.Length} characters");
        Assert.Equal(Enumerable.Range(1, cut.Citations.Count), cut.Citations.Select(c => c.Number));
    }

    private static KnowledgeHit Hit(string passage) => new(Guid.NewGuid(), "terms.pdf", Guid.Empty, 2, null, passage, 0.5, [1]);
}
