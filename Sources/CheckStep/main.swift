import XtunLab
print("check-step")
