"""Excel: the coding sheet both ways, the analysis workbook, the shared xlsx helpers."""
