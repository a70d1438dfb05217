namespace DrWeb.Ml.Data;

/// <summary>A fundus photograph with its clinician's grade.</summary>
/// <param name="Path">Full path of the image file.</param>
/// <param name="Id">The image's name in its dataset, e.g. <c>10007_left</c>.</param>
/// <param name="PatientId">Whose eye it is; images of one patient never straddle a train/validation split.</param>
/// <param name="Source">Where the photograph comes from (dataset folder, and the origin named in its <c>sources.csv</c>), so that
/// figures can be reported per population.</param>
public sealed record LabelledImage(string Path, string Id, int Grade, string PatientId, string Source = "");
