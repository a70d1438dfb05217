using DrWeb.Ml.Evaluation;
using DrWeb.Ml.Manifest;
using DrWeb.Tests.Support;

namespace DrWeb.Tests.Ml.Evaluation;

public class BiasSummaryTests
{
    private static BiasSummary Seeded() => new(ConfusionMatrix.From(GallerySeed.Rows.Select(r => (r.True, r.Predicted))));

    [Fact]
    public void Sentences_say_where_each_grade_went_in_numbers_a_teacher_can_read_out()
    {
        var sentences = Seeded().Sentences;
        Assert.Equal(5, sentences.Count);
        Assert.Equal("57% of grade 3 (Severe NPDR) cases were called grade 0 (No DR); 29% were graded correctly (2 of 7).", sentences[3]);
        Assert.Equal("33% of grade 2 (Moderate NPDR) cases were called grade 0 (No DR); 56% were graded correctly (5 of 9).", sentences[2]);
        // A tie (2 called 0, 2 called 3) names the lower grade.
        Assert.StartsWith("25% of grade 1 (Mild NPDR) cases were called grade 0 (No DR)", sentences[1]);
    }

    [Fact]
    public void Recall_support_and_distributions_come_from_the_rows()
    {
        var bias = Seeded();
        Assert.Equal([12, 8, 9, 7, 4], bias.Grades.Select(g => g.Support));
        Assert.Equal([10, 4, 5, 2, 3], bias.Grades.Select(g => g.Recall.Numerator));
        // Predicted: grade 0 = 10 + 2 + 3 + 4 = 19 of 40.
        Assert.Equal(19 / 40.0, bias.Distribution[0].Predicted, 9);
        Assert.Equal(12 / 40.0, bias.Distribution[0].True, 9);
    }

    [Fact]
    public void A_grade_without_errors_or_cases_reads_sensibly()
    {
        var bias = new BiasSummary(ConfusionMatrix.From([(0, 0), (0, 0), (4, 4)]));
        Assert.Equal(["All 2 grade 0 (No DR) cases were graded correctly.", "The one grade 4 (Proliferative DR) case was graded correctly."], bias.Sentences);
    }
}
